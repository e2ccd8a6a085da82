import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { InboxRow } from '../../../db/schema.ts';
import type { SendResult } from '../../channel.ts';
import { recordChannelError } from '../../channel-errors.ts';
import type { IngestDeps } from '../../ingest.ts';
import type { SmsSend } from '../provider.ts';
import { smsSettingsOf, type SmsSettings } from '../settings.ts';
import { smppBinds, type SmppSender } from './bind-registry.ts';
import { encodeSms } from './encoding.ts';
import { EsmeSession, SmppUnavailableError, type EsmeConfig } from './esme.ts';
import { handleDeliverSm } from './deliver.ts';
import { flushStaleParts } from '../long-sms.ts';
import { shortMessageBody, Status, statusName } from './pdu.ts';

export interface SmppTuning {
  /** How often inboxes are re-read (new, changed, removed SMPP inboxes) and stale inbound parts flushed. */
  refreshMs: number;
  responseTimeoutMs: number;
  /** How long a send waits for the bind (reconnecting) or a window slot before it is retried by the job queue. */
  queueTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Parts of a concatenated inbound SMS wait this long for the rest. */
  inboundPartsTimeoutMs: number;
  /** TLS: verify the SMSC's certificate (off only for tests with a self-signed SMSC). */
  rejectUnauthorized: boolean;
}

const DEFAULT_TUNING: SmppTuning = {
  refreshMs: 15_000,
  responseTimeoutMs: 10_000,
  queueTimeoutMs: 10_000,
  reconnectMinMs: 1_000,
  reconnectMaxMs: 60_000,
  inboundPartsTimeoutMs: 10 * 60_000,
  rejectUnauthorized: true,
};

/** command_status of a submit_sm that a later attempt may pass (the SMSC is busy or briefly unwell). */
const RETRYABLE_STATUSES = new Set<number>([Status.ESME_RTHROTTLED, Status.ESME_RMSGQFUL, Status.ESME_RSYSERR, Status.ESME_RX_T_APPN, Status.ESME_RINVBNDSTS, Status.ESME_RUNKNOWNERR]);

/**
 * The SMPP side of SMS inboxes in this process: one bind_transceiver per inbox whose provider
 * is 'smpp', started and stopped as inboxes are created, changed and removed (re-read every
 * refreshMs, or at once by refresh()). Lost binds are recorded for the admin ('smpp.bind').
 */
export class SmppChannel {
  readonly tuning: SmppTuning;
  private readonly binds = new Map<string, InboxBind>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  private readonly refreshNow = () => this.refresh();

  constructor(
    private readonly deps: IngestDeps,
    tuning: Partial<SmppTuning> = {},
  ) {
    this.tuning = { ...DEFAULT_TUNING, ...tuning };
  }

  async start(): Promise<void> {
    this.stopped = false;
    smppBinds.addRefresher(this.refreshNow);
    await this.refresh();
    const tick = () => {
      this.refresh().catch((err) => this.deps.log.error({ err }, 'smpp refresh failed'));
      if (!this.stopped) (this.timer = setTimeout(tick, this.tuning.refreshMs)).unref();
    };
    (this.timer = setTimeout(tick, this.tuning.refreshMs)).unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    smppBinds.removeRefresher(this.refreshNow);
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([...this.binds.values()].map((b) => b.stop()));
    this.binds.clear();
  }

  /** The bind of an inbox, for tests and the admin. */
  bindOf(inboxId: string): InboxBind | null {
    return this.binds.get(inboxId) ?? null;
  }

  /** Starts binds of new SMPP inboxes, restarts changed ones, stops removed ones; flushes stale inbound parts. One at a time. */
  refresh(): Promise<void> {
    const run = this.refreshing.catch(() => undefined).then(() => this.refreshOnce());
    this.refreshing = run;
    return run;
  }

  private refreshing: Promise<void> = Promise.resolve();

  private async refreshOnce(): Promise<void> {
    const rows = await this.deps.db.selectFrom('inboxes').selectAll().where('channel_type', '=', 'sms').execute();
    if (this.stopped) return;
    const wanted = new Map<string, { inbox: InboxRow; settings: SmsSettings; key: string }>();
    for (const inbox of rows) {
      const settings = smsSettingsOf(inbox.settings);
      if (settings?.provider === 'smpp' && settings.smpp) wanted.set(inbox.id, { inbox, settings, key: JSON.stringify([settings.number, settings.maxSendsPerSecond, settings.smpp]) });
    }
    for (const [id, bind] of this.binds) {
      if (wanted.get(id)?.key !== bind.key) {
        this.binds.delete(id);
        await bind.stop();
      }
    }
    for (const [id, w] of wanted) {
      if (this.binds.has(id)) continue;
      const bind = new InboxBind(this.deps, w.inbox, w.settings, w.key, this.tuning);
      this.binds.set(id, bind);
      bind.start();
    }
    for (const bind of this.binds.values()) {
      await flushStaleParts(this.deps, bind.inbox, this.tuning.inboundPartsTimeoutMs).catch((err) => this.deps.log.error({ err, inboxId: bind.inbox.id }, 'smpp: flushing stale parts failed'));
    }
  }
}

/** One inbox's bind: the ESME session, its deliver_sm going to the inbox, its sends going out with the inbox's number. */
export class InboxBind implements SmppSender {
  readonly session: EsmeSession;
  readonly number: string;
  private reference = Math.floor(Math.random() * 256);

  constructor(
    private readonly deps: IngestDeps,
    readonly inbox: InboxRow,
    settings: SmsSettings,
    readonly key: string,
    tuning: SmppTuning,
  ) {
    const smpp = settings.smpp!;
    this.number = settings.number;
    const config: EsmeConfig = {
      host: smpp.host,
      port: smpp.port,
      tls: smpp.tls ?? false,
      rejectUnauthorized: tuning.rejectUnauthorized,
      systemId: smpp.systemId,
      password: smpp.password ?? '',
      systemType: smpp.systemType ?? '',
      windowSize: smpp.windowSize ?? 10,
      maxSubmitsPerSecond: settings.maxSendsPerSecond ?? null,
      enquireLinkMs: (smpp.enquireLinkSeconds ?? 30) * 1000,
      responseTimeoutMs: tuning.responseTimeoutMs,
      queueTimeoutMs: tuning.queueTimeoutMs,
      reconnectMinMs: tuning.reconnectMinMs,
      reconnectMaxMs: tuning.reconnectMaxMs,
      privateTargets: deps.config.privateTargets,
    };
    const log: Logger = deps.log.child({ inboxId: inbox.id, smsc: `${smpp.host}:${smpp.port}` });
    this.session = new EsmeSession(
      config,
      {
        onDeliver: (body) => handleDeliverSm(this.deps, this.inbox, body),
        onBindFailure: (reason) => {
          recordChannelError(this.deps.db, { tenantId: inbox.tenant_id, inboxId: inbox.id, kind: 'smpp.bind', message: `SMPP bind to ${smpp.host}:${smpp.port} failed: ${reason}` }).catch((err) =>
            log.error({ err }, 'smpp: recording the bind failure failed'),
          );
        },
      },
      log,
    );
  }

  get bound(): boolean {
    return this.session.bound;
  }

  start(): void {
    smppBinds.add(this);
    this.session.start();
  }

  async stop(): Promise<void> {
    smppBinds.remove(this);
    await this.session.stop();
  }

  /**
   * Sends one text as submit_sm (several, with a UDH, when long), asking for a delivery
   * receipt. The provider id is the first part's message_id; every other part's id is kept in
   * smpp_part_ids pointing at it, so a receipt for any part finds the message.
   */
  async send(message: SmsSend): Promise<SendResult> {
    let encoded;
    try {
      encoded = encodeSms(message.text, this.reference++ & 0xff);
    } catch (err) {
      return { ok: false, retryable: false, error: (err as Error).message };
    }
    const source = smppAddress(message.from);
    const dest = smppAddress(message.to);
    const ids: string[] = [];
    for (const shortMessage of encoded.parts) {
      const body = shortMessageBody({
        sourceAddrTon: source.ton,
        sourceAddrNpi: source.npi,
        sourceAddr: source.addr,
        destAddrTon: dest.ton,
        destAddrNpi: dest.npi,
        destinationAddr: dest.addr,
        esmClass: encoded.esmClass,
        registeredDelivery: 0x01, // a receipt for the final outcome, success or failure
        dataCoding: encoded.dataCoding,
        shortMessage,
      });
      let response;
      try {
        response = await this.session.submit(body);
      } catch (err) {
        if (err instanceof SmppUnavailableError) return { ok: false, retryable: true, error: `SMPP: ${err.message}` };
        throw err;
      }
      if (response.status !== Status.ESME_ROK) {
        const partNote = encoded.parts.length > 1 ? ` (part ${ids.length + 1} of ${encoded.parts.length})` : '';
        return { ok: false, retryable: RETRYABLE_STATUSES.has(response.status), error: `SMSC refused the message${partNote}: ${statusName(response.status)}` };
      }
      if (!response.messageId) return { ok: false, retryable: false, error: 'SMSC accepted the message without a message_id' };
      ids.push(response.messageId);
    }
    if (ids.length > 1) {
      // The parts' ids travel as one array: one statement text whatever the number of parts (decision 0005).
      await sql`
        INSERT INTO smpp_part_ids (tenant_id, inbox_id, part_message_id, first_message_id)
        SELECT ${this.inbox.tenant_id}, ${this.inbox.id}, part, ${ids[0]!} FROM unnest(${ids.slice(1)}::text[]) AS part
        ON CONFLICT DO NOTHING`.execute(this.deps.db);
    }
    return { ok: true, providerId: ids[0]! };
  }
}

/** An E.164 number as SMPP wants it: international TON/ISDN NPI and the digits; a short code as digits; an alphanumeric sender with TON 5. */
function smppAddress(value: string): { ton: number; npi: number; addr: string } {
  if (/^\+[1-9][0-9]{6,14}$/.test(value)) return { ton: 1, npi: 1, addr: value.slice(1) };
  if (/^[0-9]+$/.test(value)) return { ton: 0, npi: 1, addr: value };
  return { ton: 5, npi: 0, addr: value };
}
