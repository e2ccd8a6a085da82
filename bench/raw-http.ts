/**
 * The benchmarks' HTTP client: HTTP/1.1 requests encoded once as bytes and written on kept-alive
 * sockets, one request in flight per socket (as providers and browsers send them), responses read
 * off the bytes. The simulated clients share the two cores with the server they measure, and
 * node:http's client took a fifth of the machine at 1,500 webhooks/s; this one does only what a
 * load generator must (see the README's benchmark notes).
 */
import net from 'node:net';

export interface RawResponse {
  status: number;
  body: Buffer;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** A request as the bytes sent on the wire; `host` is the server's `host:port`. */
export function encodeRequest(host: string, method: string, path: string, headers: Record<string, string>, body = ''): Buffer {
  const payload = Buffer.from(body);
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  if (payload.length > 0 || method === 'POST' || method === 'PATCH' || method === 'PUT') head += `content-length: ${payload.length}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), payload]);
}

export class RawHttpClient {
  readonly host: string;
  private idle: Connection[] = [];
  private open = 0;
  private queued: Pending[] = [];
  private closed = false;

  constructor(
    private readonly hostname: string,
    private readonly port: number,
    private readonly maxSockets: number,
    private readonly timeoutMs = 30_000,
  ) {
    this.host = `${hostname}:${port}`;
  }

  /** Sends the encoded request; rejects when the connection fails or closes before the answer. */
  send(bytes: Buffer): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      this.queued.push({ bytes, resolve, reject });
      this.dispatch();
    });
  }

  destroy(): void {
    this.closed = true;
    for (const c of this.idle) c.socket.destroy();
    this.idle = [];
  }

  private dispatch(): void {
    while (this.queued.length > 0) {
      const connection = this.idle.pop() ?? (this.open < this.maxSockets ? this.connect() : null);
      if (!connection) return;
      connection.start(this.queued.shift()!);
    }
  }

  private connect(): Connection {
    this.open++;
    return new Connection(net.connect(this.port, this.hostname), this.timeoutMs, (c, reusable) => {
      if (reusable && !this.closed) this.idle.push(c);
      else {
        // Also a kept-alive socket the server closed while idle.
        this.idle = this.idle.filter((x) => x !== c);
        this.open--;
        c.socket.destroy();
      }
      this.dispatch();
    });
  }
}

interface Pending {
  bytes: Buffer;
  resolve: (r: RawResponse) => void;
  reject: (e: Error) => void;
}

class Connection {
  private pending: Pending | null = null;
  private dead = false;
  private received: Buffer = Buffer.alloc(0);

  constructor(
    readonly socket: net.Socket,
    timeoutMs: number,
    private readonly done: (c: Connection, reusable: boolean) => void,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('timeout')));
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  start(p: Pending): void {
    this.pending = p;
    this.received = Buffer.alloc(0);
    this.socket.write(p.bytes);
  }

  private read(chunk: Buffer): void {
    this.received = this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk]);
    const response = parseResponse(this.received);
    if (!response || !this.pending) return;
    const p = this.pending;
    this.pending = null;
    this.received = Buffer.alloc(0);
    this.dead = response.closes;
    this.done(this, !response.closes);
    p.resolve({ status: response.status, body: response.body });
  }

  private fail(error: Error): void {
    if (this.dead) return;
    this.dead = true;
    const p = this.pending;
    this.pending = null;
    this.done(this, false);
    p?.reject(error);
  }
}

/** A whole response (content-length or chunked), or null while bytes are missing. */
function parseResponse(bytes: Buffer): { status: number; body: Buffer; closes: boolean } | null {
  const end = bytes.indexOf(HEADER_END);
  if (end < 0) return null;
  const head = bytes.toString('latin1', 0, end).toLowerCase();
  const status = Number(head.slice(9, 12));
  const closes = head.includes('\r\nconnection: close');
  const start = end + HEADER_END.length;
  const length = /\r\ncontent-length: *(\d+)/.exec(head);
  if (length) {
    const stop = start + Number(length[1]);
    return bytes.length < stop ? null : { status, body: bytes.subarray(start, stop), closes };
  }
  if (!head.includes('\r\ntransfer-encoding: chunked')) return { status, body: Buffer.alloc(0), closes };
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = bytes.indexOf(CRLF, at);
    if (lineEnd < 0) return null;
    const size = parseInt(bytes.toString('latin1', at, lineEnd), 16);
    const dataStart = lineEnd + CRLF.length;
    if (bytes.length < dataStart + size + CRLF.length) return null;
    if (size === 0) return { status, body: Buffer.concat(parts), closes };
    parts.push(bytes.subarray(dataStart, dataStart + size));
    at = dataStart + size + CRLF.length;
  }
}
