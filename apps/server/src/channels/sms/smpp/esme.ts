import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import { guardedLookup, refusedLiteral, type PrivateTargets } from '../../../net/private-targets.ts';
import { decodePdu, encodePdu, PduFramer, SmppDecodeError, Status, statusName, type Pdu, type ShortMessageBody } from './pdu.ts';

export interface EsmeConfig {
  host: string;
  port: number;
  tls: boolean;
  /** TLS only: refuse an SMSC certificate that does not verify (tests with a self-signed SMSC turn it off). */
  rejectUnauthorized?: boolean;
  systemId: string;
  password: string;
  systemType: string;
  /** submit_sm sent and not yet answered, at most. */
  windowSize: number;
  /** submit_sm per second on this bind, at most (null: as fast as the window allows). */
  maxSubmitsPerSecond: number | null;
  enquireLinkMs: number;
  /** How long a request (bind, submit_sm, enquire_link, unbind) waits for its response. */
  responseTimeoutMs: number;
  /** How long submit() waits for a bind or a window slot before giving up (retryable). */
  queueTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** The SMSC is the tenant's setting: inside the server's network only where these allow (net/private-targets.ts). */
  privateTargets: PrivateTargets;
}

export interface EsmeHandlers {
  /** A deliver_sm from the SMSC; resolves with the command_status of the deliver_sm_resp, sent after it resolves. */
  onDeliver(body: ShortMessageBody): Promise<number>;
  onBound?(): void;
  /** The connection or the bind failed (refused, lost, timed out); the session reconnects by itself. */
  onBindFailure?(reason: string): void;
}

export interface SubmitResponse {
  status: number;
  messageId: string;
}

/** submit() could not get an answer from the SMSC: not bound, timed out, connection lost. Worth retrying. */
export class SmppUnavailableError extends Error {}

type State = 'idle' | 'connecting' | 'binding' | 'bound' | 'unbinding' | 'stopped';

interface PendingRequest {
  resolve(pdu: Pdu): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface QueuedSubmit {
  body: ShortMessageBody;
  resolve(r: SubmitResponse): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | null;
}

const MAX_SEQUENCE = 0x7fffffff;

/**
 * One SMPP 3.4 bind_transceiver to an SMSC, kept up: enquire_link every enquireLinkMs (and
 * answered when the SMSC asks), at most windowSize submit_sm in flight and at most
 * maxSubmitsPerSecond, deliver_sm handed to the handler and answered after it resolves, and
 * after any loss a reconnect with exponential backoff and jitter until stop().
 */
export class EsmeSession {
  private state: State = 'idle';
  private socket: net.Socket | null = null;
  private sequence = 0;
  private readonly pending = new Map<number, PendingRequest>();
  /** Sequence numbers of submit_sm in flight (a subset of pending). */
  private readonly inFlightSubmits = new Set<number>();
  private readonly queue: QueuedSubmit[] = [];
  private nextSubmitAt = 0;
  private throttleTimer: NodeJS.Timeout | null = null;
  private enquireTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private lastFailure: string | null = null;
  private readonly boundWaiters = new Set<() => void>();
  /** Observed figures, for tests and metrics. */
  readonly stats = { binds: 0, maxInFlight: 0, submits: 0, delivers: 0 };

  constructor(
    readonly config: EsmeConfig,
    private readonly handlers: EsmeHandlers,
    private readonly log: Logger,
  ) {}

  get bound(): boolean {
    return this.state === 'bound';
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.connect();
  }

  /** Resolves once bound (or at once when bound); rejects after timeoutMs. */
  waitBound(timeoutMs: number): Promise<void> {
    if (this.bound) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.boundWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(() => {
        this.boundWaiters.delete(done);
        reject(new SmppUnavailableError(`not bound after ${timeoutMs} ms${this.lastFailure ? `: ${this.lastFailure}` : ''}`));
      }, timeoutMs);
      this.boundWaiters.add(done);
    });
  }

  /** Sends one submit_sm when the window and the throughput limit allow; resolves with the SMSC's answer (any command_status). */
  submit(body: ShortMessageBody): Promise<SubmitResponse> {
    if (this.state === 'stopped') return Promise.reject(new SmppUnavailableError('the SMPP bind is stopped'));
    return new Promise((resolve, reject) => {
      const item: QueuedSubmit = { body, resolve, reject, timer: null };
      this.queue.push(item);
      this.pump();
      // Still waiting (no bind, no free slot): it gives up after queueTimeoutMs. Most sends never get here.
      if (this.queue.at(-1) === item) {
        item.timer = setTimeout(() => {
          const at = this.queue.indexOf(item);
          if (at >= 0) this.queue.splice(at, 1);
          reject(new SmppUnavailableError(this.bound ? `no send slot (window or throughput limit) within ${this.config.queueTimeoutMs} ms` : `not bound${this.lastFailure ? ` (${this.lastFailure})` : ''}`));
        }, this.config.queueTimeoutMs);
      }
    });
  }

  /** Unbinds politely (waiting briefly for unbind_resp), then closes; no reconnect after. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasBound = this.state === 'bound';
    this.state = 'unbinding';
    this.clearTimers();
    for (const item of this.queue.splice(0)) {
      if (item.timer) clearTimeout(item.timer);
      item.reject(new SmppUnavailableError('the SMPP bind was stopped'));
    }
    if (wasBound && this.socket) await this.request({ command: 'unbind', status: 0, sequence: 0, body: null }).catch(() => undefined);
    this.state = 'stopped';
    this.socket?.destroy();
    this.socket = null;
    this.failPending('the SMPP bind was stopped');
  }

  private connect(): void {
    this.state = 'connecting';
    const { host, port, privateTargets } = this.config;
    // An address literal is checked here, a name by the guarded lookup.
    const refused = refusedLiteral(host, privateTargets);
    if (refused) {
      queueMicrotask(() => this.lost(refused.message));
      return;
    }
    const lookup = guardedLookup(privateTargets);
    const socket = this.config.tls
      ? tls.connect({ host, port, lookup, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: this.config.rejectUnauthorized ?? true })
      : net.connect({ host, port, lookup });
    this.socket = socket;
    socket.setNoDelay(true);
    const framer = new PduFramer();
    let closeReason: string | null = null;
    socket.once(this.config.tls ? 'secureConnect' : 'connect', () => {
      if (this.socket !== socket || this.state !== 'connecting') return;
      this.bind();
    });
    socket.setTimeout(this.config.responseTimeoutMs, () => {
      // Only while connecting: once bound, enquire_link watches the link.
      if (this.state === 'connecting') socket.destroy(new Error(`no connection within ${this.config.responseTimeoutMs} ms`));
    });
    socket.on('data', (chunk: Buffer) => {
      let frames: Buffer[];
      try {
        frames = framer.push(chunk);
      } catch (err) {
        closeReason = `unreadable stream from the SMSC: ${(err as Error).message}`;
        socket.destroy();
        return;
      }
      for (const frame of frames) this.receive(frame);
    });
    // The SMSC closing its side is the end of the bind; nothing more may be written to it.
    socket.on('end', () => {
      closeReason ??= 'the SMSC closed the connection';
      if (this.socket === socket) this.dropConnection(closeReason);
    });
    socket.on('error', (err) => {
      closeReason ??= err.message;
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.lost(closeReason ?? 'the SMSC closed the connection');
    });
  }

  private bind(): void {
    this.state = 'binding';
    const { systemId, password, systemType } = this.config;
    this.request({
      command: 'bind_transceiver',
      status: 0,
      sequence: 0,
      body: { systemId, password, systemType, interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: '' },
    }).then(
      (resp) => {
        if (this.state !== 'binding') return;
        if (resp.status !== Status.ESME_ROK) {
          this.dropConnection(`bind_transceiver refused: ${statusName(resp.status)}`);
          return;
        }
        this.state = 'bound';
        this.failures = 0;
        this.lastFailure = null;
        this.stats.binds++;
        this.enquireTimer = setInterval(() => this.enquire(), this.config.enquireLinkMs);
        this.enquireTimer.unref();
        this.log.info({ host: this.config.host, port: this.config.port, systemId }, 'smpp bound');
        for (const waiter of [...this.boundWaiters]) waiter();
        this.handlers.onBound?.();
        this.pump();
      },
      (err: Error) => this.dropConnection(`bind_transceiver: ${err.message}`),
    );
  }

  private enquire(): void {
    if (this.state !== 'bound') return;
    this.request({ command: 'enquire_link', status: 0, sequence: 0, body: null }).catch((err: Error) => this.dropConnection(`enquire_link: ${err.message}`));
  }

  private dropConnection(reason: string): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    socket.destroy();
    this.lost(reason);
  }

  /** The connection is gone: requests in flight fail (retryable), and unless stopped, a reconnect is planned. */
  private lost(reason: string): void {
    this.clearTimers();
    this.failPending(`connection lost: ${reason}`);
    if (this.state === 'stopped' || this.state === 'unbinding') return;
    this.state = 'idle';
    this.lastFailure = reason;
    this.failures++;
    const base = Math.min(this.config.reconnectMaxMs, this.config.reconnectMinMs * 2 ** Math.min(this.failures - 1, 20));
    // Jitter spreads the reconnects of many binds after an SMSC restart.
    const delay = Math.round(base / 2 + Math.random() * (base / 2));
    this.log.warn({ host: this.config.host, port: this.config.port, reason, retryInMs: delay }, 'smpp bind lost');
    this.handlers.onBindFailure?.(reason);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.state === 'idle') this.connect();
    }, delay);
  }

  private failPending(reason: string): void {
    for (const [seq, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(seq);
      p.reject(new SmppUnavailableError(reason));
    }
    this.inFlightSubmits.clear();
  }

  private clearTimers(): void {
    if (this.enquireTimer) clearInterval(this.enquireTimer);
    if (this.throttleTimer) clearTimeout(this.throttleTimer);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.enquireTimer = this.throttleTimer = this.reconnectTimer = null;
  }

  /** Sends queued submit_sm while bound, a window slot is free and the throughput limit allows. */
  private pump(): void {
    while (this.state === 'bound' && this.queue.length > 0 && this.inFlightSubmits.size < this.config.windowSize) {
      if (this.config.maxSubmitsPerSecond) {
        const now = Date.now();
        if (now < this.nextSubmitAt) {
          if (!this.throttleTimer) {
            this.throttleTimer = setTimeout(() => {
              this.throttleTimer = null;
              this.pump();
            }, this.nextSubmitAt - now);
          }
          return;
        }
        this.nextSubmitAt = Math.max(now, this.nextSubmitAt) + 1000 / this.config.maxSubmitsPerSecond;
      }
      const item = this.queue.shift()!;
      if (item.timer) clearTimeout(item.timer);
      const sequence = this.nextSequence();
      this.inFlightSubmits.add(sequence);
      this.stats.submits++;
      this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.inFlightSubmits.size);
      this.request({ command: 'submit_sm', status: 0, sequence, body: item.body }).then(
        (resp) => item.resolve({ status: resp.status, messageId: resp.command === 'submit_sm_resp' ? resp.body.messageId : '' }),
        item.reject,
      );
    }
  }

  private nextSequence(): number {
    this.sequence = this.sequence >= MAX_SEQUENCE ? 1 : this.sequence + 1;
    return this.sequence;
  }

  /** Writes a request and resolves with its response (or a generic_nack of the same sequence). */
  private request(pdu: Pdu): Promise<Pdu> {
    const socket = this.socket;
    if (!socket) return Promise.reject(new SmppUnavailableError('not connected'));
    const sequence = pdu.sequence || this.nextSequence();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(sequence);
        this.inFlightSubmits.delete(sequence);
        reject(new SmppUnavailableError(`no ${pdu.command}_resp within ${this.config.responseTimeoutMs} ms`));
        this.pump();
      }, this.config.responseTimeoutMs);
      this.pending.set(sequence, { resolve, reject, timer });
      socket.write(encodePdu({ ...pdu, sequence } as Pdu));
    });
  }

  private send(pdu: Pdu): void {
    this.socket?.write(encodePdu(pdu));
  }

  private receive(frame: Buffer): void {
    let pdu: Pdu;
    try {
      pdu = decodePdu(frame);
    } catch (err) {
      if (!(err instanceof SmppDecodeError)) throw err;
      this.log.warn({ reason: err.message, host: this.config.host }, 'smpp: malformed PDU from the SMSC');
      // A response we cannot read still settles its request, as a failure.
      const waiting = err.sequence !== null && frame.readUInt32BE(4) & 0x80000000 ? this.pending.get(err.sequence) : undefined;
      if (waiting) this.settle(err.sequence!, { command: 'generic_nack', status: err.status, sequence: err.sequence!, body: null });
      else if (!(frame.readUInt32BE(4) & 0x80000000)) this.send({ command: 'generic_nack', status: err.status, sequence: err.sequence ?? 0, body: null });
      return;
    }
    switch (pdu.command) {
      case 'bind_transceiver_resp':
      case 'submit_sm_resp':
      case 'enquire_link_resp':
      case 'unbind_resp':
      case 'generic_nack':
        this.settle(pdu.sequence, pdu);
        return;
      case 'enquire_link':
        this.send({ command: 'enquire_link_resp', status: 0, sequence: pdu.sequence, body: null });
        return;
      case 'unbind':
        this.send({ command: 'unbind_resp', status: 0, sequence: pdu.sequence, body: null });
        this.dropConnection('the SMSC unbound');
        return;
      case 'deliver_sm':
        this.deliver(pdu.sequence, pdu.body);
        return;
      default:
        // bind_transceiver, submit_sm … are not for an ESME to answer.
        this.send({ command: 'generic_nack', status: Status.ESME_RINVCMDID, sequence: pdu.sequence, body: null });
    }
  }

  private settle(sequence: number, pdu: Pdu): void {
    const waiting = this.pending.get(sequence);
    if (!waiting) {
      this.log.debug({ sequence, command: pdu.command }, 'smpp: a response nobody waits for (timed out?)');
      return;
    }
    clearTimeout(waiting.timer);
    this.pending.delete(sequence);
    const wasSubmit = this.inFlightSubmits.delete(sequence);
    waiting.resolve(pdu);
    if (wasSubmit) this.pump();
  }

  /** deliver_sm_resp goes out only once the handler is done (stored and committed); a failure asks the SMSC to retry later. */
  private deliver(sequence: number, body: ShortMessageBody): void {
    if (this.state !== 'bound') {
      this.send({ command: 'deliver_sm_resp', status: Status.ESME_RINVBNDSTS, sequence, body: { messageId: '' } });
      return;
    }
    this.stats.delivers++;
    const socket = this.socket;
    this.handlers.onDeliver(body).then(
      (status) => {
        if (this.socket === socket) this.send({ command: 'deliver_sm_resp', status, sequence, body: { messageId: '' } });
      },
      (err: Error) => {
        this.log.error({ err }, 'smpp: deliver_sm handling failed; the SMSC will redeliver');
        if (this.socket === socket) this.send({ command: 'deliver_sm_resp', status: Status.ESME_RX_T_APPN, sequence, body: { messageId: '' } });
      },
    );
  }
}
