import type { PartNumbering } from './long-sms.ts';
import type { PrivateTargets } from '../../net/private-targets.ts';
import type { MessageStatus } from '../../db/schema.ts';
import type { SendResult } from '../channel.ts';
import type { SmsProviderName, SmsSettings } from './settings.ts';

/** A provider's HTTP callback as received: what signature checks need (the URL the provider called, the raw body). */
export interface SmsWebhookRequest {
  /** The full public URL the provider posted to, query included (Twilio signs it). */
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string | undefined>;
  query: Record<string, string>;
  rawBody: Buffer;
}

/** One text a handset sent to the inbox's number. */
export interface InboundSms {
  /** The provider's id of the message (Twilio MessageSid, Sinch id, Vonage messageId, Kannel/SMPP message id): the exactly-once key. */
  providerId: string;
  from: string;
  to: string;
  text: string;
  /** MMS / media the provider hosts (fetched by the shared path). */
  media: { url: string; contentType: string | null }[];
  details: Record<string, unknown>;
  /** One part of a long text the provider delivers part by part (Vonage): stored until the whole text is there. */
  part?: PartNumbering;
}

/** A provider's word about a message Parley sent, correlated by the provider's id of that message. */
export interface SmsDeliveryReport {
  providerId: string;
  status: MessageStatus;
  /** The provider's error code or text, when it failed. */
  reason: string | null;
}

export interface SmsWebhookResult {
  inbound: InboundSms[];
  reports: SmsDeliveryReport[];
  /** What to answer the provider (Twilio wants TwiML, Kannel plain text); a plain 200 when absent. */
  response?: { contentType: string; body: string };
}

/** Thrown by readWebhook: the request is refused with this status and reason, nothing is stored. */
export class SmsWebhookRejected extends Error {
  constructor(
    readonly statusCode: 400 | 401 | 403 | 404,
    message: string,
  ) {
    super(message);
  }
}

export interface SmsSend {
  /** Parley's message id (a reference the provider echoes, when it can). */
  reference: string;
  from: string;
  to: string;
  text: string;
  /** Where the provider should report this message's delivery (this inbox's webhook URL); absent when Parley has no public URL. */
  callbackUrl?: string;
}

/**
 * One SMS provider's protocol: how its callbacks are authenticated and read, how a message is
 * sent, what its delivery states mean. The SMS adapter (sms/adapter.ts) picks one by the
 * inbox's `settings.sms.provider`; everything else (inbox, contact, consent, storage) is shared.
 */
export interface SmsProvider {
  readonly name: SmsProviderName;
  /** Checks the callback's authentication and reads it; throws SmsWebhookRejected. Absent for providers without HTTP callbacks (SMPP). */
  readWebhook?(settings: SmsSettings, request: SmsWebhookRequest): SmsWebhookResult;
  send(settings: SmsSettings, message: SmsSend, privateTargets: PrivateTargets): Promise<SendResult>;
  /** The provider's delivery state → Parley's; null when it means nothing to Parley. */
  mapStatus(providerStatus: string): MessageStatus | null;
  /** An authenticated request that sends nothing (the admin's "test connection"). */
  testConnection?(settings: SmsSettings, privateTargets: PrivateTargets): Promise<{ ok: boolean; message: string }>;
  /** The Authorization header for fetching media the provider hosts (Twilio MMS), when it needs one. */
  mediaAuthorization?(settings: SmsSettings): string | null;
}
