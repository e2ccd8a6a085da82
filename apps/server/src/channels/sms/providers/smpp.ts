import type { SmsProvider } from '../provider.ts';
import { smppBinds } from '../smpp/bind-registry.ts';
import { probeBind } from '../smpp/probe.ts';
import { smppStatus } from '../smpp/receipt.ts';

/**
 * SMPP 3.4 (smpp/): no HTTP callbacks. Texts and delivery receipts arrive as deliver_sm on the
 * inbox's bind (smpp/smpp-channel.ts); a send goes out as submit_sm on that bind, and its
 * provider id is the SMSC's message_id.
 */
export const smpp: SmsProvider = {
  name: 'smpp',
  async send(settings, message) {
    let bind = smppBinds.find(settings.number);
    if (!bind) {
      // An inbox created since the last refresh: bind it now (the send then waits for the bind).
      await smppBinds.refreshAll();
      bind = smppBinds.find(settings.number);
    }
    if (!bind) return { ok: false, retryable: true, error: `no SMPP bind for ${settings.number} in this process` };
    return bind.send(message);
  },
  mapStatus: smppStatus,
  async testConnection(settings, privateTargets) {
    return probeBind(settings, privateTargets);
  },
};
