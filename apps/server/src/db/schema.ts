import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** Timestamps: written as Date or ISO string, read back as Date. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type Role = 'admin' | 'supervisor' | 'agent';
export type Locale = 'en' | 'es-MX' | 'pt-BR';
export type ChannelType = 'webchat' | 'api' | 'email' | 'sms' | 'whatsapp' | 'messenger' | 'instagram' | 'voice';
export type ConversationStatus = 'open' | 'pending' | 'snoozed' | 'resolved';
export type MessageDirection = 'in' | 'out';
export type SenderType = 'contact' | 'user' | 'system';
export type MessageStatus = 'received' | 'queued' | 'sent' | 'delivered' | 'read' | 'failed';

export interface AttachmentRef {
  id: string;
  filename: string;
  contentType: string;
  size: number;
}

export interface TenantSettings {
  /** ISO 3166-1 alpha-2 codes: no message goes to or from numbers of these countries (CO-3). */
  unavailableCountries?: string[];
  /** Outbound messages per second across the tenant's numbers (SMS, WhatsApp). */
  maxSendsPerSecond?: number;
  /** IANA time zone where the tenant's day starts (wallboard "today" of queues without business hours). Default UTC. */
  timeZone?: string;
}

export interface TenantsTable {
  id: string;
  name: string;
  settings: ColumnType<TenantSettings, string | undefined, string>;
  created_at: Timestamp;
}

/** One row per tenant: the last realtime sequence number handed out (see realtime/event-log.ts). */
export interface TenantEventSeqTable {
  tenant_id: string;
  seq: ColumnType<number, number, number>;
}

export interface UsersTable {
  id: string;
  tenant_id: string;
  email: string;
  name: string;
  role: Role;
  locale: Locale;
  password_hash: string | null;
  created_at: Timestamp;
  password_changed_at: Timestamp;
}

export interface SessionsTable {
  id: string; // sha256 of the cookie token
  tenant_id: string;
  user_id: string;
  csrf_token: string;
  created_at: Timestamp;
  expires_at: Timestamp;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  key_hash: string;
  prefix: string;
  created_by: string | null;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface InvitationsTable {
  id: string;
  tenant_id: string;
  email: string;
  role: Role;
  token_hash: string;
  invited_by: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  accepted_at: Timestamp | null;
}

export interface InboxSettings {
  color: string;
  greeting: string;
  prechat: { enabled: boolean; fields: { name: 'name' | 'email'; required: boolean }[] };
  allowedDomains: string[];
}

export interface InboxesTable {
  id: string;
  tenant_id: string;
  public_id: string;
  name: string;
  channel_type: ChannelType;
  settings: Json<InboxSettings>;
  identity_secret: string;
  /** The routing queue its conversations enter; null = the tenant's default queue. */
  queue_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Timestamp;
}

export interface ContactsTable {
  id: string;
  tenant_id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  /** The host application's id of a visitor, set only once verified by HMAC. */
  identifier: string | null;
  verified: boolean;
  custom_attributes: Json<Record<string, unknown>>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** How a contact is reached on a channel: an email address, a phone number, a WhatsApp id … */
export interface ContactHandlesTable {
  tenant_id: string;
  contact_id: string;
  channel_type: ChannelType;
  handle: string;
  created_at: Timestamp;
}

export interface ConversationsTable {
  id: string;
  tenant_id: string;
  inbox_id: string;
  contact_id: string;
  channel_type: ChannelType;
  status: ConversationStatus;
  assignee_id: string | null;
  queue_id: string | null;
  priority: number;
  labels: Json<string[]>;
  custom_attributes: Json<Record<string, unknown>>;
  subject: string | null;
  /** Channel-side thread key (email Message-ID root, SMS number pair, …). */
  external_thread_id: string | null;
  snoozed_until: Timestamp | null;
  unread_count: number;
  last_message_id: string | null;
  last_activity_at: Timestamp;
  contact_last_read_at: Timestamp | null;
  agent_last_read_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Place in routing: 'waiting' | 'offered' | 'assigned', null when not routed. */
  routing_state: ColumnType<RoutingItemState | null, RoutingItemState | null | undefined, RoutingItemState | null>;
  waiting_since: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  sla: ColumnType<ConversationSla[], string | undefined, string>;
}

export type RoutingItemState = 'waiting' | 'offered' | 'assigned';
export interface ConversationSla {
  clock: 'first-response' | 'next-response' | 'resolution';
  dueAt: string;
  status: 'ok' | 'warning' | 'breached';
}

export interface MessagesTable {
  id: string;
  tenant_id: string;
  conversation_id: string;
  direction: MessageDirection;
  private: boolean;
  sender_type: SenderType;
  sender_id: string | null;
  sender_name: string | null;
  content: string;
  content_type: string;
  attachments: Json<AttachmentRef[]>;
  mentions: Json<string[]>;
  status: MessageStatus;
  client_message_id: string | null;
  /** The provider's id of an inbound message (MessageSid, wamid, Message-ID): stored once. */
  source_id: string | null;
  created_at: Timestamp;
  /** Why a channel could not deliver an outbound message (status 'failed'), or the last retryable error. */
  error: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface AttachmentsTable {
  id: string;
  tenant_id: string;
  conversation_id: string | null;
  uploader_type: SenderType;
  uploader_id: string | null;
  filename: string;
  content_type: string;
  size: number;
  storage_key: string;
  created_at: Timestamp;
}

export interface ConversationEventsTable {
  id: Generated<string>;
  tenant_id: string;
  conversation_id: string;
  type: string;
  actor_type: SenderType;
  actor_id: string | null;
  data: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface RealtimeEventsTable {
  tenant_id: string;
  seq: ColumnType<number, number, number>;
  conversation_id: string | null;
  /** 'all': agents and the conversation's visitor; 'agents': agents only (private notes). */
  audience: 'all' | 'agents';
  type: string;
  payload: Json<unknown>;
  created_at: Timestamp;
}

export interface CannedRepliesTable {
  id: string;
  tenant_id: string;
  short_code: string;
  content: string;
  created_at: Timestamp;
}

export interface WebhookEndpointsTable {
  id: string;
  tenant_id: string;
  url: string;
  events: Json<string[]>;
  secret: string;
  created_at: Timestamp;
  /** Set while paused: by an admin, or because the receiver answered 410 Gone. */
  disabled_at: Timestamp | null;
  disabled_reason: 'admin' | 'gone' | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  event: string;
  body: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Timestamp;
  delivered_at: Timestamp | null;
}

export interface JobsTable {
  id: Generated<string>;
  tenant_id: string | null;
  kind: string;
  payload: Json<Record<string, unknown>>;
  run_at: Timestamp;
  attempts: number;
  status: 'queued' | 'running' | 'done' | 'failed';
  locked_until: Timestamp | null;
  last_error: string | null;
  created_at: Timestamp;
}

/** Queue settings other than id, tenant and members (those are columns / rows). */
export type QueueSettings = Record<string, unknown>;

export interface RoutingQueuesTable {
  id: string;
  tenant_id: string;
  name: string;
  is_default: boolean;
  /** Members are every user of the tenant (the default queue until someone edits its members). */
  all_users: boolean;
  config: Json<QueueSettings>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RoutingQueueMembersTable {
  tenant_id: string;
  queue_id: string;
  user_id: string;
  position: number;
}

export interface AgentRoutingProfilesTable {
  tenant_id: string;
  user_id: string;
  skills: Json<Record<string, number>>;
  capacity: Json<Record<string, number>>;
  updated_at: Timestamp;
}

export interface AgentStatesTable {
  tenant_id: string;
  user_id: string;
  state: string;
  reason: string | null;
  since: Timestamp;
}

export interface AgentStateEventsTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string;
  from_state: string;
  to_state: string;
  reason: string | null;
  cause: string;
  created_at: Timestamp;
}

export type OfferStatus = 'open' | 'accepted' | 'declined' | 'expired' | 'revoked';

export interface RoutingOffersTable {
  id: string;
  tenant_id: string;
  conversation_id: string;
  agent_id: string;
  queue_id: string;
  channel: string;
  status: OfferStatus;
  created_at: Timestamp;
  expires_at: Timestamp;
  closed_at: Timestamp | null;
}

/** The routing engine's state per tenant (see docs/decisions/0003-routing-serialization.md). */
export interface RoutingStateTable {
  tenant_id: string;
  version: ColumnType<number, number, number>;
  token: string;
  next_wake_at: Timestamp | null;
  updated_at: Timestamp;
}

/** A delivery report that arrived before the send that it reports on was recorded (fast carriers): applied once it is. */
export interface EarlyDeliveryReportsTable {
  tenant_id: string;
  inbox_id: string;
  provider_id: string;
  status: MessageStatus;
  reason: string | null;
  received_at: Timestamp;
}

/** The engine's state (JSON text) as of `version`; routing_journal holds the events after it. */
export interface RoutingSnapshotsTable {
  tenant_id: string;
  version: ColumnType<number, number, number>;
  snapshot: string;
}

/** The routing events of one routing transaction (version), replayed on the snapshot before it. */
export interface RoutingJournalTable {
  tenant_id: string;
  version: ColumnType<number, number, number>;
  events: Json<unknown[]>;
}

/** A running server node's lease: it renews `alive_until`; past it, the node's agent connections are dropped. */
export interface RoutingNodesTable {
  node_id: string;
  alive_until: Timestamp;
}

/** Tenants in whose routing engine a node holds agent connections (to drop when the node is gone). */
export interface RoutingNodeTenantsTable {
  node_id: string;
  tenant_id: string;
}

/** Failed logins per email and per client address in 15-minute windows (see auth/login-throttle.ts). */
export interface LoginFailuresTable {
  key: string;
  window_start: Timestamp;
  count: number;
}

/** A resource one node at a time works on (an IMAP mailbox), held until `until` unless renewed. */
export interface LeasesTable {
  resource: string;
  node_id: string;
  until: Timestamp;
}

export interface Database {
  login_failures: LoginFailuresTable;
  leases: LeasesTable;
  routing_nodes: RoutingNodesTable;
  routing_node_tenants: RoutingNodeTenantsTable;
  routing_queues: RoutingQueuesTable;
  routing_queue_members: RoutingQueueMembersTable;
  agent_routing_profiles: AgentRoutingProfilesTable;
  agent_states: AgentStatesTable;
  agent_state_events: AgentStateEventsTable;
  routing_offers: RoutingOffersTable;
  routing_state: RoutingStateTable;
  routing_journal: RoutingJournalTable;
  routing_snapshots: RoutingSnapshotsTable;
  early_delivery_reports: EarlyDeliveryReportsTable;
  tenants: TenantsTable;
  tenant_event_seq: TenantEventSeqTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  invitations: InvitationsTable;
  inboxes: InboxesTable;
  contacts: ContactsTable;
  contact_handles: ContactHandlesTable;
  conversations: ConversationsTable;
  messages: MessagesTable;
  attachments: AttachmentsTable;
  conversation_events: ConversationEventsTable;
  realtime_events: RealtimeEventsTable;
  canned_replies: CannedRepliesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  jobs: JobsTable;
  channel_messages: ChannelMessagesTable;
  imap_cursors: ImapCursorsTable;
  channel_consents: ChannelConsentsTable;
  send_rate_windows: SendRateWindowsTable;
  channel_errors: ChannelErrorsTable;
}

export type UserRow = Selectable<UsersTable>;
export type InboxRow = Selectable<InboxesTable>;
export type ContactRow = Selectable<ContactsTable>;
export type ConversationRow = Selectable<ConversationsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type NewMessage = Insertable<MessagesTable>;

/** Channel-side facts of one message (email headers, sanitized HTML, auth results), beside the message row. */
export interface ChannelMessagesTable {
  message_id: string;
  tenant_id: string;
  inbox_id: string;
  conversation_id: string;
  channel_type: ChannelType;
  direction: MessageDirection;
  /** The provider's id: an email's Message-ID (without angle brackets). */
  external_id: string | null;
  /** Ids this message answers (email In-Reply-To and References). */
  thread_keys: Json<string[]>;
  from_handle: string | null;
  to_address: string | null;
  subject: string | null;
  /** Sanitized HTML body, safe to show in the agent app. */
  html: string | null;
  details: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

/** Where IMAP polling of an email inbox stands: nothing at or below last_uid is read again. */
export interface ImapCursorsTable {
  inbox_id: string;
  tenant_id: string;
  mailbox: string;
  uid_validity: ColumnType<number, number, number>;
  last_uid: ColumnType<number, number, number>;
  last_error: string | null;
  updated_at: Timestamp;
}

export type ChannelMessageRow = Selectable<ChannelMessagesTable>;

/** A contact's consent to messages from one sending number or account (an inbox), set by STOP/START keywords (CO-2). */
export interface ChannelConsentsTable {
  tenant_id: string;
  inbox_id: string;
  handle: string;
  status: 'opted_in' | 'opted_out';
  /** The keyword (or API call) that set it. */
  keyword: string | null;
  changed_at: Timestamp;
}

/** Sends counted per key (a number, a tenant) and one-second window: the rate limits of outbound channels. */
export interface SendRateWindowsTable {
  key: string;
  window_start: Timestamp;
  count: ColumnType<number, number | undefined, number>;
}

/** The last problems of a channel connection (a refused send, a bad webhook signature, a lost bind), shown to the admin. */
export interface ChannelErrorsTable {
  id: string;
  tenant_id: string;
  inbox_id: string;
  kind: string;
  message: string;
  created_at: Timestamp;
}
