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
    const bind = smppBinds.find(settings.number);
    // Binds start with the server; one that is missing here comes with the next inbox refresh.
    if (!bind) return { ok: false, retryable: true, error: `no SMPP bind for ${settings.number} in this process yet` };
    return bind.send(message);
  },
  mapStatus: smppStatus,
  async testConnection(settings) {
    return probeBind(settings);
  },
};
