import type { SendResult } from '../../channel.ts';
import type { SmsSend } from '../provider.ts';

/** An inbox's SMPP bind in this process, as the SMPP provider sees it. */
export interface SmppSender {
  /** The inbox's number (settings.sms.number): unique across inboxes, so it names the bind. */
  readonly number: string;
  readonly bound: boolean;
  send(message: SmsSend): Promise<SendResult>;
}

const senders = new Set<SmppSender>();
/** The running SMPP channels' refresh, so a send for an inbox created a moment ago binds it now instead of at the next refresh. */
const refreshers = new Set<() => Promise<void>>();

/**
 * The binds running in this process, by inbox number. The provider interface hands `send` the
 * inbox's settings, not the inbox, so this is how a send finds its inbox's connection.
 */
export const smppBinds = {
  add(sender: SmppSender): void {
    senders.add(sender);
  },
  remove(sender: SmppSender): void {
    senders.delete(sender);
  },
  addRefresher(refresh: () => Promise<void>): void {
    refreshers.add(refresh);
  },
  removeRefresher(refresh: () => Promise<void>): void {
    refreshers.delete(refresh);
  },
  /** Re-reads the inboxes in every running SMPP channel of this process. */
  async refreshAll(): Promise<void> {
    await Promise.all([...refreshers].map((refresh) => refresh()));
  },
  /** A bound sender of this number, else any (it waits for its bind), else null. */
  find(number: string): SmppSender | null {
    let fallback: SmppSender | null = null;
    for (const s of senders) {
      if (s.number !== number) continue;
      if (s.bound) return s;
      fallback ??= s;
    }
    return fallback;
  },
};
