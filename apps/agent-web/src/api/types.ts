/** Shapes of the Parley HTTP API v1, as described in docs/realtime-and-api.md. */

export type Role = 'admin' | 'supervisor' | 'agent';
export type Locale = 'en' | 'es-MX' | 'pt-BR';
export type ConversationStatus = 'open' | 'pending' | 'snoozed' | 'resolved';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  locale: Locale;
  createdAt: string;
}

export interface Tenant {
  id: string;
  name: string;
}

export interface Session {
  user: User;
  tenant: Tenant;
  csrfToken: string;
}

export interface PrechatField {
  name: 'name' | 'email';
  required: boolean;
}

export interface InboxSettings {
  color: string;
  greeting: string;
  prechat: { enabled: boolean; fields: PrechatField[] };
  allowedDomains: string[];
  /** Email inboxes (apps/server/src/channels/email/settings.ts). */
  email?: Record<string, unknown>;
  /** SMS inboxes (apps/server/src/channels/sms/settings.ts). */
  sms?: SmsSettings;
  /** WhatsApp, Messenger and Instagram inboxes (apps/server/src/channels/meta/settings.ts). */
  meta?: MetaSettings;
}

export const CHANNEL_TYPES = ['webchat', 'api', 'email', 'sms', 'whatsapp', 'messenger', 'instagram'] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];
/** Channels that speak through a provider (test connection, webhook URLs, channel errors, send policy). */
export const PROVIDER_CHANNELS = ['sms', 'whatsapp', 'messenger', 'instagram'] as const;
export type ProviderChannel = (typeof PROVIDER_CHANNELS)[number];

export const SMS_PROVIDERS = ['twilio', 'sinch', 'vonage', 'kannel', 'smpp'] as const;
export type SmsProvider = (typeof SMS_PROVIDERS)[number];

/**
 * Channel settings as the API shows them: secrets are write-only, so a stored one reads as
 * `<name>Set: true`, and an update that leaves it out keeps it.
 */
export type ProviderFields = Record<string, string | number | boolean | undefined>;

export interface SmsSettings {
  number: string;
  provider: SmsProvider;
  maxSendsPerSecond?: number;
  twilio?: ProviderFields;
  sinch?: ProviderFields;
  vonage?: ProviderFields;
  kannel?: ProviderFields;
  smpp?: ProviderFields;
}

export interface WhatsAppTemplate {
  name: string;
  language: string;
  body: string;
}

export interface MetaSettings {
  accountId: string;
  displayNumber?: string;
  appSecret?: string;
  appSecretSet?: boolean;
  accessToken?: string;
  accessTokenSet?: boolean;
  verifyToken?: string;
  verifyTokenSet?: boolean;
  graphBaseUrl?: string;
  apiVersion?: string;
  businessAccountId?: string;
  templates?: WhatsAppTemplate[];
}

export interface Inbox {
  id: string;
  publicId: string;
  name: string;
  channelType: ChannelType;
  settings: InboxSettings;
  identitySecret?: string;
  /** The routing queue conversations of this inbox enter; null or absent: the tenant's default queue. */
  queueId?: string | null;
  createdAt: string;
}

export interface Contact {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  identifier: string | null;
  verified: boolean;
  customAttributes: Record<string, unknown>;
  createdAt: string;
}

export interface Attachment {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  url: string;
}

export interface Message {
  id: string;
  conversationId: string;
  direction: 'in' | 'out';
  private: boolean;
  senderType: 'contact' | 'user' | 'system';
  senderId: string | null;
  senderName: string | null;
  content: string;
  attachments: Attachment[];
  mentions: string[];
  status: MessageStatus;
  /** Why the channel could not deliver it (status 'failed'), or the last retryable error; absent on older servers. */
  error?: string | null;
  clientMessageId: string | null;
  createdAt: string;
}

/** The channel side of a message: an email's subject, sanitized HTML and sender authentication; a send error. */
export interface ChannelMessage {
  messageId: string;
  status: string;
  error: string | null;
  from: string | null;
  to: string | null;
  subject: string | null;
  /** Sanitized on the server: no script, no styles; remote images only as `data-remote-src`. */
  html: string | null;
  details: { authentication?: Record<string, string> } & Record<string, unknown>;
}

export const DELIVERY_STATUSES = ['queued', 'sent', 'delivered', 'read', 'failed'] as const;
export type MessageStatus = 'received' | (typeof DELIVERY_STATUSES)[number];

export interface Conversation {
  id: string;
  inboxId: string;
  /** The channel the customer uses (the reply leaves by it); absent on older servers: the inbox's. */
  channelType?: ChannelType;
  status: ConversationStatus;
  priority: number;
  assigneeId: string | null;
  labels: string[];
  customAttributes: Record<string, unknown>;
  contact: Contact;
  lastMessage: Message | null;
  unreadCount: number;
  lastActivityAt: string;
  createdAt: string;
  contactLastReadAt: string | null;
  agentLastReadAt: string | null;
  /** When a snoozed conversation reopens (served by the server, not yet in the contract doc). */
  snoozedUntil?: string | null;
}

export interface ConversationCounts {
  mine: number;
  unassigned: number;
  all: number;
}

export interface ConversationPage {
  items: Conversation[];
  counts: ConversationCounts;
  nextCursor?: string | null;
}

export interface CannedReply {
  id: string;
  shortCode: string;
  content: string;
}

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  acceptUrl: string;
  expiresAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  key?: string;
  createdAt: string;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  secret?: string;
  createdAt?: string;
  enabled: boolean;
  disabledAt: string | null;
  /** admin: paused by an admin; gone: the receiver answered 410 Gone. */
  disabledReason: 'admin' | 'gone' | null;
}

export interface WebhookDelivery {
  id: string;
  event: string;
  /** pending: queued or being retried. */
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

// ---------------------------------------------------------------- channels (issue 4)

export interface ConnectionTest {
  ok: boolean;
  message: string;
}

export interface ChannelError {
  id: string;
  kind: string;
  message: string;
  createdAt: string;
}

/** The TXT record that publishes an email inbox's DKIM public key. */
export interface DkimRecord {
  selector: string;
  domain: string;
  name: string;
  value: string;
}

export interface WebhookUrl {
  /** What the URL is for (inbound messages, delivery reports …), as the server names it. */
  name: string;
  url: string;
}

export interface TenantSettings {
  /** ISO 3166-1 alpha-2 codes no message may be sent to or from (CO-3). */
  unavailableCountries: string[];
  /** Outbound messages per second for the whole tenant; null: no tenant limit. */
  maxSendsPerSecond: number | null;
  /** What applies when the tenant sets no limit (read-only). */
  defaultMaxSendsPerSecond?: number;
}

export type SendBlockReason = 'opted_out' | 'country_unavailable' | 'window_closed' | 'no_channel';

export interface SendPolicy {
  canSend: boolean;
  /** Free text allowed (false outside WhatsApp's 24-hour window: templates only). */
  freeText: boolean;
  reason: SendBlockReason | null;
  message: string | null;
  windowClosesAt: string | null;
  templates: WhatsAppTemplate[];
}

export type ConsentStatus = 'opted_in' | 'opted_out';

export interface Consent {
  inboxId: string;
  handle: string;
  status: ConsentStatus;
  keyword: string | null;
  changedAt: string;
}

// ---------------------------------------------------------------- routing (docs/routing-api.md)

export const CHANNELS = ['chat', 'email', 'sms', 'social', 'voice', 'task'] as const;
export type Channel = (typeof CHANNELS)[number];
export type PerChannel<T> = Partial<Record<Channel, T>>;

export const AGENT_STATES = ['available', 'busy', 'away', 'not-ready', 'wrap-up', 'offline'] as const;
export type AgentState = (typeof AGENT_STATES)[number];
/** The states an agent may choose; wrap-up is set by the server after a resolve. */
export type SettableAgentState = Exclude<AgentState, 'wrap-up'>;

export type OfferStatus = 'open' | 'accepted' | 'declined' | 'expired' | 'revoked';

export interface Offer {
  id: string;
  conversationId: string;
  agentId: string;
  queueId: string;
  channel: string;
  status: OfferStatus;
  createdAt: string;
  expiresAt: string;
  closedAt: string | null;
}

export interface AgentRouting {
  userId: string;
  name: string;
  role: string;
  state: AgentState;
  reason: string | null;
  since: string;
  connected: boolean;
  skills: Record<string, number>;
  capacity: PerChannel<number>;
  load: PerChannel<number>;
  offers: Offer[];
  conversationIds: string[];
}

export type SlaClock = 'first-response' | 'next-response' | 'resolution';
export type SlaStatus = 'ok' | 'warning' | 'breached';

export interface SlaDueView {
  clock: SlaClock;
  dueAt: string;
  status: SlaStatus;
}

export interface ConversationRouting {
  conversationId: string;
  queueId: string | null;
  state: 'waiting' | 'offered' | 'assigned' | null;
  waitingSince: string | null;
  priority: number;
  offer: Offer | null;
  sla: SlaDueView[];
}

export interface WallboardQueue {
  id: string;
  name: string;
  waiting: number;
  offered: number;
  longestWaitSeconds: number;
  today: { offered: number; answered: number; abandoned: number; answeredWithinTarget: number };
  serviceLevelTargetSeconds: number;
  serviceLevelPercent: number | null;
  agentsByState: Partial<Record<AgentState, number>>;
}

export interface WallboardAgent {
  userId: string;
  name: string;
  state: AgentState;
  reason: string | null;
  since: string;
  secondsInState: number;
  connected: boolean;
  load: PerChannel<number>;
  capacity: PerChannel<number>;
}

export interface Wallboard {
  generatedAt: string;
  queues: WallboardQueue[];
  agents: WallboardAgent[];
}

export type StrategyName = 'longest-idle' | 'least-occupied' | 'round-robin' | 'best-skill-match';
export const STRATEGIES: StrategyName[] = ['longest-idle', 'least-occupied', 'round-robin', 'best-skill-match'];
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface TimeInterval { start: string; end: string }
export interface Holiday { date: string; name?: string; open?: TimeInterval[] }
export interface BusinessHours {
  timeZone: string;
  weekly: Partial<Record<Weekday, TimeInterval[]>>;
  holidays?: Holiday[];
}

export type QueueExitAction =
  | { kind: 'offline-form' }
  | { kind: 'voicemail' }
  | { kind: 'overflow'; queueId: string }
  | { kind: 'close'; message: string };

export type EscalationAction =
  | { kind: 'raise-priority'; by: number }
  | { kind: 'notify-supervisor' }
  | { kind: 'move-queue'; queueId: string };

export interface SlaTarget {
  minPriority?: number;
  firstResponseSeconds?: number;
  nextResponseSeconds?: number;
  resolutionSeconds?: number;
}

export interface SlaPolicy {
  id: string;
  targets: SlaTarget[];
  businessHoursOnly?: boolean;
  warnBeforeSeconds?: number;
  onWarning?: EscalationAction[];
  onBreach?: EscalationAction[];
}

export interface BullseyeRing {
  afterSeconds: number;
  dropPreferredSkills?: boolean;
  lowerRequiredLevelsBy?: number;
  addQueueMembers?: string[];
}

export interface QueueInput {
  name: string;
  strategy?: StrategyName;
  members?: string[];
  requiredSkills?: { skill: string; minLevel: number }[];
  businessHours?: BusinessHours | null;
  outOfHoursAction?: QueueExitAction;
  maxWait?: { seconds: number; action: QueueExitAction } | null;
  maxQueueSize?: { size: number; action: QueueExitAction } | null;
  offerTimeoutSeconds?: number;
  setAwayOnOfferTimeout?: boolean;
  autoAccept?: PerChannel<boolean>;
  declineCooldownSeconds?: number;
  bullseye?: BullseyeRing[];
  priorityWeightSeconds?: number;
  lastAgentPreferenceSeconds?: number;
  wrapUpSeconds?: number;
  serviceLevelTargetSeconds?: number;
  sla?: SlaPolicy | null;
}

export interface Queue extends QueueInput {
  id: string;
  isDefault: boolean;
  members: string[];
  createdAt: string;
  updatedAt: string;
}

export type RoutingConversationEvent = {
  conversationId: string;
  queueId: string | null;
  state: 'waiting' | 'offered' | 'assigned' | null;
  event: string;
  detail?: Record<string, unknown>;
};

export type ServerEvent =
  | { type: 'conversation.created'; data: Conversation }
  | { type: 'conversation.updated'; data: Conversation }
  | { type: 'message.created'; data: Message }
  | { type: 'message.updated'; data: Message }
  | { type: 'conversation.read'; data: { conversationId: string; by: 'contact' | 'agent'; at: string } }
  | { type: 'routing.offer'; data: { offer: Offer; conversation: Conversation } }
  | { type: 'routing.offer_closed'; data: { offer: Offer; reason: 'accepted' | 'declined' | 'expired' | 'revoked'; detail?: string } }
  | {
    type: 'agent.state_changed';
    data: { agentId: string; state: AgentState; reason: string | null; since: string; cause: string };
  }
  | { type: 'routing.conversation'; data: RoutingConversationEvent }
  | { type: 'routing.sla'; data: { conversationId: string; clock: SlaClock; status: 'warning' | 'breached'; dueAt: string } };

export type EphemeralEvent =
  | { type: 'typing'; data: { conversationId: string; who: 'contact' | 'agent'; userId?: string; on: boolean } }
  | { type: 'presence'; data: { userId: string; online: boolean } };

export type ServerFrame =
  | { type: 'ready'; seq: number }
  | { type: 'resync'; seq: number }
  | { type: 'event'; seq: number; event: ServerEvent }
  | { type: 'ephemeral'; event: EphemeralEvent }
  | { type: 'pong' };
