import type { ChannelType, MessageStatus } from '../db/schema.ts';
import type { PrivateTargets } from '../net/private-targets.ts';

/**
 * The one interface every channel (email, SMS, WhatsApp, voice …) implements. An adapter turns
 * a provider's raw input into Parley's normalized inbound message, sends Parley's outbound
 * message through the provider, and maps the provider's delivery states onto Parley's. The
 * shared paths in ingest.ts and outbound.ts do everything else (inbox, contact, threading,
 * storage, retries), so an adapter holds no database code.
 */
export interface ChannelAdapter<Settings = unknown> {
  readonly channelType: ChannelType;
  /** Untrusted input of the provider (raw MIME, a webhook body …) → a normalized message. Never throws on bad content: what cannot be parsed is kept raw. */
  parseInbound(raw: unknown): Promise<InboundMessage>;
  /**
   * Delivers one outbound message with the inbox's channel settings. Provider addresses in the
   * settings are the tenant's choice: connections go through net/ (guardedFetch, allowedAddress),
   * which refuses the server's own network unless `privateTargets` (PARLEY_PRIVATE_TARGETS) allows it.
   */
  send(settings: Settings, message: OutboundMessage, privateTargets: PrivateTargets): Promise<SendResult>;
  /** A provider's delivery state → Parley's message status; null when the state means nothing to Parley. */
  mapStatus(providerStatus: string): MessageStatus | null;
  /** The inbox's channel settings out of the inbox's settings; null when the inbox cannot send. */
  settingsOf(inboxSettings: unknown): Settings | null;
  /** Reaches the provider with these settings without sending a message (the admin's "test connection"). */
  testConnection?(settings: Settings, privateTargets: PrivateTargets): Promise<{ ok: boolean; message: string }>;
  /**
   * When free text may be sent in a conversation (WhatsApp's 24-hour customer-service window):
   * given the customer's last inbound message, whether free text is allowed now and until when.
   * Absent: always allowed. Template messages are allowed regardless. The inbox's settings may
   * widen it (Messenger's human-agent tag).
   */
  sendWindow?(lastInboundAt: Date | null, now: Date, settings?: Settings | null): { freeText: boolean; closesAt: Date | null };
}

export interface InboundAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
  /** Content-ID of an inline part (an email `cid:` image). */
  contentId?: string;
}

export interface InboundMessage {
  /** The provider's id of this message, unique within the inbox: the key of exactly-once storage. */
  sourceId: string;
  /** The provider's id as others refer to it (an email's Message-ID), or null. */
  externalId: string | null;
  from: { handle: string; name: string | null };
  /** The address the message was sent to (an inbox address, perhaps with a +token). */
  to: string | null;
  /** Ids of the messages this one answers, most relevant first (email In-Reply-To, then References). */
  threadKeys: string[];
  subject: string | null;
  text: string;
  /** Sanitized HTML (no script, no handlers, remote images behind a click), or null. */
  html: string | null;
  attachments: InboundAttachment[];
  /** Sent by a machine on its own (vacation reply, auto-responder): stored, never new work. */
  autoReply: boolean;
  /** A delivery failure report: stored, never new work. */
  bounce: boolean;
  /** Provider facts worth keeping (authentication results, parse problems …). */
  details: Record<string, unknown>;
}

export interface OutboundAttachment {
  filename: string;
  contentType: string;
  /** Reads the bytes; called once per send attempt. */
  open(): NodeJS.ReadableStream;
}

export interface OutboundMessage {
  /** Parley's message id: adapters derive stable provider ids from it so a retried send is recognizable. */
  messageId: string;
  conversationId: string;
  to: { handle: string; name: string | null };
  subject: string | null;
  text: string;
  attachments: OutboundAttachment[];
  /** An approved template to send instead of free text (WhatsApp outside the 24-hour window); `text` is its rendered body. */
  template?: { name: string; language: string; parameters: string[] };
  /** The customer's message this answers, for threading and quoting. */
  replyTo: { externalId: string | null; threadKeys: string[]; from: string | null; text: string; sentAt: Date } | null;
  /** Parley's public base URL and the inbox's public id, for providers told per message where to report delivery (Twilio's StatusCallback); absent without a public URL. */
  webhookTarget?: { publicUrl: string; inboxPublicId: string };
}

export type SendResult =
  | { ok: true; providerId: string }
  /** retryable: a timeout, a connection failure, a temporary refusal (SMTP 4yz); else definitive (SMTP 5yz). */
  | { ok: false; retryable: boolean; error: string };
