import { expect } from 'vitest';
import type { MessageStatus } from '../db/schema.ts';
import type { ChannelAdapter } from './channel.ts';
import { channelSettingsKey } from './channel-settings.ts';

/** Inputs each provider folder gives the contract suite (`<provider>/contract-samples.ts`). */
export interface ContractSamples {
  /** Well-formed provider input. */
  inbound: unknown[];
  /** Broken, empty or hostile provider input: must come out as a message, never as a throw. */
  hostile: unknown[];
  /** Provider delivery states that mean something to Parley. */
  knownStatuses: string[];
  /** Channel settings whose provider cannot be reached. */
  unreachableSettings: unknown;
  /** A handle of this channel to send to (an email address, an E.164 number, a page-scoped id). */
  recipient: string;
}

const STATUSES: MessageStatus[] = ['received', 'queued', 'sent', 'delivered', 'read', 'failed'];

/** The behaviour every channel adapter promises (see channel.ts), checked against one adapter. */
export async function checkAdapterContract(adapter: ChannelAdapter, samples: ContractSamples): Promise<void> {
  for (const input of [...samples.inbound, ...samples.hostile]) {
    const a = await adapter.parseInbound(input);
    const b = await adapter.parseInbound(input);
    // The same input is the same message: the key of exactly-once storage.
    expect(a.sourceId).toBeTruthy();
    expect(b.sourceId).toBe(a.sourceId);
    expect(a.from.handle).toBeTruthy();
    expect(Array.isArray(a.threadKeys)).toBe(true);
    expect(typeof a.text).toBe('string');
    expect(typeof a.autoReply).toBe('boolean');
    expect(typeof a.bounce).toBe('boolean');
    // Nothing is lost: whatever came in is readable, or kept as a file.
    const empty = (Buffer.isBuffer(input) || typeof input === 'string') && input.length === 0;
    if (!empty) expect(a.text.trim().length > 0 || a.attachments.length > 0 || a.html !== null).toBe(true);
    if (a.html) expect(/<script|\son[a-z]+=/i.test(a.html)).toBe(false);
  }
  for (const s of samples.knownStatuses) expect(STATUSES).toContain(adapter.mapStatus(s));
  expect(adapter.mapStatus('no-such-state')).toBeNull();
  expect(adapter.settingsOf(null)).toBeNull();
  expect(adapter.settingsOf({})).toBeNull();
  // Inbox settings keep a channel's settings under its key (WhatsApp, Messenger and Instagram share `meta`).
  const settings = adapter.settingsOf({ [channelSettingsKey[adapter.channelType] ?? adapter.channelType]: samples.unreachableSettings });
  expect(settings).not.toBeNull();
  const result = await adapter.send(settings, {
    messageId: 'msg_contract',
    conversationId: 'cnv_contract',
    to: { handle: samples.recipient, name: null },
    subject: 'contract',
    text: 'contract',
    attachments: [],
    replyTo: null,
  }, true);
  expect(result).toMatchObject({ ok: false, retryable: true });
}
