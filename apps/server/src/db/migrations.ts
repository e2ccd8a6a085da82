import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

/**
 * Migrations are plain SQL in order; each runs once, inside a transaction, recorded in
 * schema_migrations. The same SQL runs on PGlite and on a PostgreSQL server.
 */
const migrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'foundation',
    sql: `
CREATE TABLE tenants (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE tenant_event_seq (
  tenant_id text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  seq bigint NOT NULL DEFAULT 0
);
CREATE TABLE users (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('admin','supervisor','agent')),
  locale text NOT NULL DEFAULT 'en',
  password_hash text,
  created_at timestamptz NOT NULL DEFAULT now(),
  password_changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_tenant_idx ON users (tenant_id);
CREATE TABLE sessions (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  prefix text NOT NULL,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
CREATE TABLE invitations (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  email text NOT NULL,
  role text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  invited_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz
);
CREATE TABLE inboxes (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  public_id text NOT NULL UNIQUE,
  name text NOT NULL,
  channel_type text NOT NULL,
  settings jsonb NOT NULL,
  identity_secret text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inboxes_tenant_idx ON inboxes (tenant_id);
CREATE TABLE contacts (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name text,
  email text,
  phone text,
  identifier text,
  verified boolean NOT NULL DEFAULT false,
  custom_attributes jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX contacts_identifier_key ON contacts (tenant_id, identifier) WHERE identifier IS NOT NULL;
CREATE INDEX contacts_tenant_email_idx ON contacts (tenant_id, lower(email));
CREATE TABLE contact_handles (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  contact_id text NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  channel_type text NOT NULL,
  handle text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, channel_type, handle)
);
CREATE TABLE conversations (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  inbox_id text NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  contact_id text NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  channel_type text NOT NULL,
  status text NOT NULL CHECK (status IN ('open','pending','snoozed','resolved')),
  assignee_id text REFERENCES users(id) ON DELETE SET NULL,
  queue_id text,
  priority integer NOT NULL DEFAULT 0,
  labels jsonb NOT NULL DEFAULT '[]',
  custom_attributes jsonb NOT NULL DEFAULT '{}',
  subject text,
  external_thread_id text,
  snoozed_until timestamptz,
  unread_count integer NOT NULL DEFAULT 0,
  last_message_id text,
  last_activity_at timestamptz NOT NULL DEFAULT now(),
  contact_last_read_at timestamptz,
  agent_last_read_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_list_idx ON conversations (tenant_id, last_activity_at DESC, id DESC);
CREATE INDEX conversations_contact_idx ON conversations (tenant_id, contact_id);
CREATE INDEX conversations_thread_idx ON conversations (tenant_id, inbox_id, external_thread_id);
CREATE TABLE messages (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  direction text NOT NULL CHECK (direction IN ('in','out')),
  private boolean NOT NULL DEFAULT false,
  sender_type text NOT NULL,
  sender_id text,
  sender_name text,
  content text NOT NULL,
  content_type text NOT NULL DEFAULT 'text/plain',
  attachments jsonb NOT NULL DEFAULT '[]',
  mentions jsonb NOT NULL DEFAULT '[]',
  status text NOT NULL,
  client_message_id text,
  source_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, created_at, id);
CREATE UNIQUE INDEX messages_client_id_key ON messages (conversation_id, client_message_id) WHERE client_message_id IS NOT NULL;
CREATE UNIQUE INDEX messages_source_id_key ON messages (tenant_id, source_id) WHERE source_id IS NOT NULL;
CREATE TABLE attachments (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id text REFERENCES conversations(id) ON DELETE CASCADE,
  uploader_type text NOT NULL,
  uploader_id text,
  filename text NOT NULL,
  content_type text NOT NULL,
  size integer NOT NULL,
  storage_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE conversation_events (
  id bigserial PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  type text NOT NULL,
  actor_type text NOT NULL,
  actor_id text,
  data jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_events_idx ON conversation_events (conversation_id, id);
CREATE TABLE realtime_events (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  seq bigint NOT NULL,
  conversation_id text,
  audience text NOT NULL,
  type text NOT NULL,
  payload jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX realtime_events_conversation_idx ON realtime_events (conversation_id, seq);
CREATE TABLE canned_replies (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  short_code text NOT NULL,
  content text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_id, short_code)
);
CREATE TABLE webhook_endpoints (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  url text NOT NULL,
  events jsonb NOT NULL,
  secret text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE webhook_deliveries (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  endpoint_id text NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  event text NOT NULL,
  body text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  last_status_code integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC);
CREATE TABLE jobs (
  id bigserial PRIMARY KEY,
  tenant_id text,
  kind text NOT NULL,
  payload jsonb NOT NULL,
  run_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  status text NOT NULL DEFAULT 'queued',
  locked_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_due_idx ON jobs (run_at) WHERE status IN ('queued','running');
`,
  },
  {
    version: 2,
    name: 'routing',
    sql: `
CREATE TABLE routing_queues (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  name text NOT NULL,
  is_default boolean NOT NULL DEFAULT false,
  all_users boolean NOT NULL DEFAULT false,
  config jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routing_queues_tenant_idx ON routing_queues (tenant_id);
CREATE UNIQUE INDEX routing_queues_default_key ON routing_queues (tenant_id) WHERE is_default;
CREATE TABLE routing_queue_members (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  queue_id text NOT NULL REFERENCES routing_queues(id) ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  position integer NOT NULL,
  PRIMARY KEY (queue_id, user_id)
);
CREATE INDEX routing_queue_members_tenant_idx ON routing_queue_members (tenant_id, user_id);
CREATE TABLE agent_routing_profiles (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id text PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  skills jsonb NOT NULL DEFAULT '{}',
  capacity jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_routing_profiles_tenant_idx ON agent_routing_profiles (tenant_id);
CREATE TABLE agent_states (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id text PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  state text NOT NULL,
  reason text,
  since timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_states_tenant_idx ON agent_states (tenant_id);
CREATE TABLE agent_state_events (
  id bigserial PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  user_id text NOT NULL,
  from_state text NOT NULL,
  to_state text NOT NULL,
  reason text,
  cause text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX agent_state_events_tenant_idx ON agent_state_events (tenant_id, created_at);
CREATE TABLE routing_offers (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  agent_id text NOT NULL,
  queue_id text NOT NULL,
  channel text NOT NULL,
  status text NOT NULL DEFAULT 'open',
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  closed_at timestamptz
);
CREATE INDEX routing_offers_tenant_idx ON routing_offers (tenant_id, created_at);
CREATE UNIQUE INDEX routing_offers_one_open_key ON routing_offers (conversation_id) WHERE status = 'open';
CREATE TABLE routing_state (
  tenant_id text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  version bigint NOT NULL DEFAULT 0,
  token text NOT NULL,
  snapshot jsonb NOT NULL,
  next_wake_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX routing_state_wake_idx ON routing_state (next_wake_at);
ALTER TABLE inboxes ADD COLUMN queue_id text REFERENCES routing_queues(id) ON DELETE SET NULL;
ALTER TABLE conversations ADD COLUMN routing_state text;
ALTER TABLE conversations ADD COLUMN waiting_since timestamptz;
ALTER TABLE conversations ADD COLUMN sla jsonb NOT NULL DEFAULT '[]';
CREATE INDEX conversation_events_tenant_type_idx ON conversation_events (tenant_id, type, created_at)
`,
  },
  {
    version: 3,
    name: 'channels-email',
    sql: `
ALTER TABLE messages ADD COLUMN error text;
CREATE UNIQUE INDEX inboxes_email_address_key ON inboxes (lower(settings->'email'->>'address')) WHERE channel_type = 'email';
CREATE TABLE channel_messages (
  message_id text PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  inbox_id text NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
  channel_type text NOT NULL,
  direction text NOT NULL,
  external_id text,
  thread_keys jsonb NOT NULL DEFAULT '[]',
  from_handle text,
  to_address text,
  subject text,
  html text,
  details jsonb NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_messages_external_idx ON channel_messages (tenant_id, inbox_id, external_id);
CREATE INDEX channel_messages_conversation_idx ON channel_messages (tenant_id, conversation_id, created_at);
CREATE TABLE imap_cursors (
  inbox_id text PRIMARY KEY REFERENCES inboxes(id) ON DELETE CASCADE,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  mailbox text NOT NULL,
  uid_validity bigint NOT NULL,
  last_uid bigint NOT NULL,
  last_error text,
  updated_at timestamptz NOT NULL DEFAULT now()
)
`,
  },
  {
    version: 4,
    name: 'channels-messaging',
    sql: `
ALTER TABLE tenants ADD COLUMN settings jsonb NOT NULL DEFAULT '{}';
CREATE UNIQUE INDEX inboxes_sms_number_key ON inboxes ((settings->'sms'->>'number')) WHERE channel_type = 'sms';
CREATE UNIQUE INDEX inboxes_meta_account_key ON inboxes (channel_type, (settings->'meta'->>'accountId')) WHERE channel_type IN ('whatsapp','messenger','instagram');
CREATE TABLE channel_consents (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  inbox_id text NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  handle text NOT NULL,
  status text NOT NULL CHECK (status IN ('opted_in','opted_out')),
  keyword text,
  changed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, inbox_id, handle)
);
CREATE TABLE send_rate_windows (
  key text NOT NULL,
  window_start timestamptz NOT NULL,
  count integer NOT NULL DEFAULT 0,
  PRIMARY KEY (key, window_start)
);
CREATE TABLE channel_errors (
  id text PRIMARY KEY,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  inbox_id text NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  kind text NOT NULL,
  message text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX channel_errors_inbox_idx ON channel_errors (tenant_id, inbox_id, created_at DESC)
`,
  },
  {
    version: 8,
    name: 'smpp',
    sql: `
CREATE TABLE smpp_part_ids (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  inbox_id text NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  part_message_id text NOT NULL,
  first_message_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, inbox_id, part_message_id)
);
CREATE TABLE smpp_inbound_parts (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  inbox_id text NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  concat_key text NOT NULL,
  part_no integer NOT NULL,
  total integer NOT NULL,
  text text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}',
  received_at timestamptz NOT NULL DEFAULT now(),
  assembled_at timestamptz,
  PRIMARY KEY (tenant_id, inbox_id, concat_key, part_no)
);
CREATE INDEX smpp_inbound_parts_age_idx ON smpp_inbound_parts (received_at)
`,
  },
  {
    version: 9,
    name: 'routing-journal',
    sql: `
ALTER TABLE routing_state ADD COLUMN snapshot_version bigint NOT NULL DEFAULT 0;
CREATE TABLE routing_journal (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  version bigint NOT NULL,
  events jsonb NOT NULL,
  PRIMARY KEY (tenant_id, version)
)
`,
  },
  {
    version: 10,
    name: 'early-delivery-reports',
    sql: `
CREATE TABLE early_delivery_reports (
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  inbox_id text NOT NULL REFERENCES inboxes(id) ON DELETE CASCADE,
  provider_id text NOT NULL,
  status text NOT NULL,
  reason text,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, inbox_id, provider_id, status)
)
`,
  },
  {
    version: 11,
    name: 'routing-nodes',
    sql: `
CREATE TABLE routing_nodes (
  node_id text PRIMARY KEY,
  alive_until timestamptz NOT NULL
);
CREATE TABLE routing_node_tenants (
  node_id text NOT NULL,
  tenant_id text NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  PRIMARY KEY (node_id, tenant_id)
)
`,
  },
  {
    version: 12,
    name: 'login-failures',
    sql: `
CREATE TABLE login_failures (
  key text NOT NULL,
  window_start timestamptz NOT NULL,
  count integer NOT NULL,
  PRIMARY KEY (key, window_start)
)
`,
  },
  {
    // 13 was taken for a while in session 7 and withdrawn: a database that ran it must still get this one.
    version: 14,
    name: 'leases',
    sql: `
CREATE TABLE leases (
  resource text PRIMARY KEY,
  node_id text NOT NULL,
  until timestamptz NOT NULL
)
`,
  },
  {
    version: 15,
    name: 'sms-inbound-parts',
    // Long texts arrive in parts over HTTP too (Vonage), not only over SMPP.
    sql: `
ALTER TABLE smpp_inbound_parts RENAME TO sms_inbound_parts;
ALTER INDEX smpp_inbound_parts_age_idx RENAME TO sms_inbound_parts_age_idx
`,
  },
  {
    version: 16,
    name: 'routing-snapshots',
    // The snapshot leaves the row that is the tenant's routing lock, so that it can be written
    // after the commit without that lock; as text, which PostgreSQL stores without parsing it.
    sql: `
CREATE TABLE routing_snapshots (
  tenant_id text PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
  version bigint NOT NULL,
  snapshot text NOT NULL
);
INSERT INTO routing_snapshots (tenant_id, version, snapshot) SELECT tenant_id, snapshot_version, snapshot::text FROM routing_state;
ALTER TABLE routing_state DROP COLUMN snapshot;
ALTER TABLE routing_state DROP COLUMN snapshot_version
`,
  },
  {
    version: 17,
    name: 'one-parent-key-per-hot-row',
    // The rows written for every inbound message keep one foreign key each, to the row they
    // belong to (a message to its conversation, a channel row to its message), whose own keys
    // reach the tenant and the inbox: the cascades are unchanged, and each insert checks (and
    // key-share-locks) one parent instead of up to four, the tenant's row among them, which
    // every writer of the tenant locked. See docs/decisions/0007-one-parent-key-per-hot-row.md.
    sql: `
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_fkey;
ALTER TABLE channel_messages DROP CONSTRAINT channel_messages_tenant_id_fkey;
ALTER TABLE channel_messages DROP CONSTRAINT channel_messages_inbox_id_fkey;
ALTER TABLE channel_messages DROP CONSTRAINT channel_messages_conversation_id_fkey
`,
  },
  {
    version: 18,
    name: 'event-log-keyed-by-its-counter',
    // An event is numbered from its tenant's counter row (tenant_event_seq, whose key reaches the
    // tenant) in the statement that inserts it, so an event of no tenant cannot be written; and
    // the log is a replay window pruned by age for every tenant. The key's check ran once per
    // event (1–2 per message). Decision 0007.
    sql: `ALTER TABLE realtime_events DROP CONSTRAINT realtime_events_tenant_id_fkey`,
  },
  {
    version: 19,
    name: 'no-statistics-for-bodies',
    // Bodies and payloads are read by key, never searched: no plan uses their statistics, and
    // computing them (sorting a 30,000-row sample of JSON and text) was a fifth to two thirds of
    // ANALYZE's cost on the tables that grow with every message (messages, realtime_events,
    // channel_messages).
    sql: `ALTER TABLE messages ALTER COLUMN content SET STATISTICS 0, ALTER COLUMN attachments SET STATISTICS 0, ALTER COLUMN mentions SET STATISTICS 0;
ALTER TABLE realtime_events ALTER COLUMN payload SET STATISTICS 0;
ALTER TABLE conversation_events ALTER COLUMN data SET STATISTICS 0;
ALTER TABLE channel_messages ALTER COLUMN thread_keys SET STATISTICS 0, ALTER COLUMN subject SET STATISTICS 0, ALTER COLUMN html SET STATISTICS 0, ALTER COLUMN details SET STATISTICS 0`,
  },
  {
    version: 20,
    name: 'webhook-endpoints-pause',
    // A paused endpoint gets no deliveries: paused by an admin, or by its receiver answering 410 Gone.
    sql: `ALTER TABLE webhook_endpoints ADD COLUMN disabled_at timestamptz, ADD COLUMN disabled_reason text CHECK (disabled_reason IN ('admin', 'gone'))`,
  },
];

export async function migrate(db: Kysely<Database>): Promise<void> {
  await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`.execute(db);
  // One migrator at a time, also when several nodes start together on one PostgreSQL.
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(72616001)`.execute(trx);
    const done = await sql<{ version: number }>`SELECT version FROM schema_migrations`.execute(trx);
    const applied = new Set(done.rows.map((r) => Number(r.version)));
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      // Prepared statements take one command each, on both engines.
      for (const statement of m.sql.split(/;\s*\n/).map((s) => s.trim()).filter(Boolean)) {
        await sql.raw(statement).execute(trx);
      }
      await sql`INSERT INTO schema_migrations (version, name) VALUES (${m.version}, ${m.name})`.execute(trx);
    }
  });
}
