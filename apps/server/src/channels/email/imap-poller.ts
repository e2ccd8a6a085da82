import { ImapFlow, type ImapFlowOptions } from 'imapflow';
import type { InboxRow } from '../../db/schema.ts';
import type { ChannelAdapter } from '../channel.ts';
import { ingestInbound, type IngestDeps } from '../ingest.ts';
import { adapter as emailAdapter } from './adapter.ts';
import { emailSettingsOf, type EmailSettings } from './settings.ts';
import { trustedAuthenticationResults } from './parse-email.ts';
import { recordChannelError } from '../channel-errors.ts';
import { storableText } from '../../conversations/storable-text.ts';
import { allowedAddress } from '../../net/private-targets.ts';
import { holdLeases, releaseLeases } from '../../db/leases.ts';
import type { Deps } from '../../deps.ts';

type PollerDeps = IngestDeps & Pick<Deps, 'nodeId'>;
/** A mailbox is read by one node at a time: its lease, renewed at each refresh, lasts this many refreshes. */
const LEASE_REFRESHES = 3;
const leaseOf = (inboxId: string) => `imap:${inboxId}`;

export interface ImapPollerOptions {
  /** How often the mailbox is checked when no IDLE notification came (and inboxes re-read). */
  pollMs: number;
  /** Larger messages are not downloaded; a note with their headers is stored instead. */
  maxBytes: number;
  adapter?: ChannelAdapter;
}

/**
 * A client for an inbox's IMAP server at `address` (the one allowedAddress checked), signing in
 * with its settings; `imap.host` stays the name TLS verifies. The poller and the connection test
 * connect alike.
 */
export function imapClient(imap: NonNullable<EmailSettings['imap']>, address: string, options: Partial<ImapFlowOptions> = {}): ImapFlow {
  return new ImapFlow({
    host: address,
    port: imap.port,
    secure: imap.secure,
    auth: { user: imap.user, pass: imap.password ?? '' },
    tls: { rejectUnauthorized: imap.verifyCertificate ?? true, ...(address !== imap.host ? { servername: imap.host } : {}) },
    logger: false,
    ...options,
  });
}

/**
 * Reads each email inbox's IMAP mailbox (settings.email.imap): new messages by UID order, each
 * stored once (Message-ID + inbox), the last UID and UIDVALIDITY kept in imap_cursors so a
 * restart continues where it stopped. IDLE (when offered) wakes it as soon as mail arrives;
 * otherwise it looks every pollMs. With several nodes, one reads a mailbox (it holds the
 * mailbox's lease; the others take over when it stops or stops renewing): one IMAP session per
 * mailbox, as mail providers limit them.
 */
export class ImapPoller {
  private readonly mailboxes = new Map<string, MailboxSync>();
  /** The leases this node took at its last refresh. */
  private held = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  /** Messages downloaded by this poller, for tests and metrics. */
  fetched = 0;

  constructor(
    private readonly deps: PollerDeps,
    private readonly options: ImapPollerOptions,
  ) {}

  start(): void {
    this.stopped = false;
    const tick = () => {
      this.refresh().catch((err) => this.deps.log.error({ err }, 'imap poller refresh failed'));
      if (!this.stopped) (this.timer = setTimeout(tick, this.options.pollMs)).unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([...this.mailboxes.values()].map((m) => m.stop()));
    this.mailboxes.clear();
    await releaseLeases(this.deps.db, this.deps.nodeId, [...this.held]).catch((err: unknown) => this.deps.log.warn({ err }, 'imap leases not released'));
  }

  /** Starts syncs for the email inboxes with IMAP whose lease this node holds, stops removed, changed or lost ones, pokes the rest. */
  async refresh(): Promise<void> {
    const rows = await this.deps.db.selectFrom('inboxes').selectAll().where('channel_type', '=', 'email').execute();
    if (this.stopped) return;
    const wanted = new Map<string, { inbox: InboxRow; settings: EmailSettings; key: string }>();
    for (const inbox of rows) {
      const settings = emailSettingsOf(inbox.settings);
      if (settings?.imap) wanted.set(inbox.id, { inbox, settings, key: JSON.stringify(settings.imap) });
    }
    const held = await holdLeases(this.deps.db, this.deps.nodeId, [...wanted.keys()].map(leaseOf), LEASE_REFRESHES * this.options.pollMs);
    this.held = held;
    if (this.stopped) return;
    for (const id of wanted.keys()) if (!held.has(leaseOf(id))) wanted.delete(id);
    for (const [id, sync] of this.mailboxes) {
      if (wanted.get(id)?.key !== sync.key) {
        this.mailboxes.delete(id);
        await sync.stop();
      }
    }
    for (const [id, w] of wanted) {
      const current = this.mailboxes.get(id);
      if (current) current.poke();
      else {
        const sync = new MailboxSync(this.deps, this.options, w.inbox, w.settings, w.key, () => this.fetched++);
        this.mailboxes.set(id, sync);
        sync.start();
      }
    }
  }
}

class MailboxSync {
  private client: ImapFlow | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private again = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private readonly mailbox: string;
  /** The failure last put in the inbox's errors: a poll failing the same way every minute is reported once. */
  private reported: string | null = null;

  constructor(
    private readonly deps: PollerDeps,
    private readonly options: ImapPollerOptions,
    private readonly inbox: InboxRow,
    private readonly settings: EmailSettings,
    readonly key: string,
    private readonly onFetched: () => void,
  ) {
    this.mailbox = settings.imap?.mailbox ?? 'INBOX';
  }

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.running?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    if (client) await client.logout().catch(() => client.close());
  }

  /** Runs a sync now, or right after the one running. */
  poke(): void {
    if (this.stopped || !this.client) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.sync()
      .catch((err) => this.failed(err))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  private async connect(): Promise<void> {
    const imap = this.settings.imap!;
    // The server is the tenant's setting: connect to its checked address, the name kept for TLS (net/private-targets.ts).
    let address: string;
    try {
      address = await allowedAddress(imap.host, this.deps.config.privateTargets);
    } catch (err) {
      this.failed(err);
      return;
    }
    const client = imapClient(imap, address, {
      // Re-issue IDLE now and then: some servers drop idle sessions silently.
      maxIdleTime: 5 * 60_000,
      // Enter IDLE soon after each sync (the library's default waits 15 s), so new mail shows at once.
      autoIdleDelay: 1_000,
    });
    client.on('error', (err: Error) => this.deps.log.warn({ err, inboxId: this.inbox.id }, 'imap connection error'));
    client.on('exists', () => this.poke());
    client.on('close', () => {
      if (this.client === client) this.failed(new Error('imap connection closed'));
    });
    try {
      await client.connect();
      await client.mailboxOpen(this.mailbox);
      if (this.stopped) {
        await client.logout().catch(() => undefined);
        return;
      }
      this.client = client;
      this.poke();
    } catch (err) {
      client.close();
      this.failed(err);
    }
  }

  private failed(err: unknown): void {
    // Often the IMAP server's own words: kept as PostgreSQL can store them.
    const message = storableText(err instanceof Error ? err.message : String(err));
    this.deps.log.warn({ inboxId: this.inbox.id, err: message }, 'imap sync failed');
    void this.deps.db.updateTable('imap_cursors').set({ last_error: message.slice(0, 1000), updated_at: new Date() }).where('inbox_id', '=', this.inbox.id).execute().catch(() => undefined);
    // Shown to admins with the inbox (a changed password, a server gone): otherwise mail just stops arriving.
    if (message !== this.reported) {
      this.reported = message;
      void recordChannelError(this.deps.db, { tenantId: this.inbox.tenant_id, inboxId: this.inbox.id, kind: 'imap', message }).catch(() => undefined);
    }
    const client = this.client;
    this.client = null;
    client?.close();
    if (this.stopped || this.retryTimer) return;
    this.failures++;
    const delay = Math.min(60_000, 1_000 * 2 ** Math.min(this.failures, 6));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped) void this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  /** Every message above the remembered UID, in UID order; the cursor moves after each one is stored. */
  private async sync(): Promise<void> {
    const client = this.client;
    if (!client || this.stopped) return;
    const box = client.mailbox;
    if (!box) throw new Error('no mailbox open');
    const validity = Number(box.uidValidity);
    const cursor = await this.deps.db.selectFrom('imap_cursors').selectAll().where('inbox_id', '=', this.inbox.id).executeTakeFirst();
    // A new UIDVALIDITY means the old UIDs name other messages now: read all again (stored ids keep it exactly-once).
    let lastUid = cursor && cursor.mailbox === this.mailbox && Number(cursor.uid_validity) === validity ? Number(cursor.last_uid) : 0;
    if (!cursor || Number(cursor.uid_validity) !== validity || cursor.mailbox !== this.mailbox) await this.saveCursor(validity, lastUid);

    const pending = (await client.fetchAll(`${lastUid + 1}:*`, { uid: true, size: true }, { uid: true })).filter((m) => m.uid > lastUid).sort((a, b) => a.uid - b.uid);
    for (const item of pending) {
      if (this.stopped) return;
      const adapter = this.options.adapter ?? emailAdapter;
      let raw: Buffer;
      if ((item.size ?? 0) > this.options.maxBytes) {
        const head = await client.fetchOne(String(item.uid), { uid: true, headers: true }, { uid: true });
        raw = Buffer.concat([head ? (head.headers ?? Buffer.alloc(0)) : Buffer.alloc(0), Buffer.from(`\r\n(This message of ${item.size} bytes is over the ${this.options.maxBytes}-byte limit and was not downloaded.)\r\n`)]);
      } else {
        const full = await client.fetchOne(String(item.uid), { uid: true, source: true }, { uid: true });
        if (!full || !full.source) continue;
        raw = full.source;
      }
      this.onFetched();
      const parsed = await adapter.parseInbound(raw);
      const details: Record<string, unknown> = { ...parsed.details, imap: { mailbox: this.mailbox, uid: item.uid, uidValidity: validity } };
      const authServId = this.settings.imap?.authServId;
      const authentication = authServId ? trustedAuthenticationResults(raw, authServId) : null;
      if (authentication) details.authentication = authentication;
      await ingestInbound(this.deps, this.inbox, { ...parsed, to: parsed.to ?? this.settings.address, details });
      lastUid = item.uid;
      await this.saveCursor(validity, lastUid);
    }
    this.failures = 0;
    this.reported = null;
  }

  private async saveCursor(validity: number, lastUid: number): Promise<void> {
    await this.deps.db
      .insertInto('imap_cursors')
      .values({ inbox_id: this.inbox.id, tenant_id: this.inbox.tenant_id, mailbox: this.mailbox, uid_validity: validity, last_uid: lastUid, last_error: null, updated_at: new Date() })
      .onConflict((oc) => oc.column('inbox_id').doUpdateSet({ mailbox: this.mailbox, uid_validity: validity, last_uid: lastUid, last_error: null, updated_at: new Date() }))
      .execute();
  }
}
