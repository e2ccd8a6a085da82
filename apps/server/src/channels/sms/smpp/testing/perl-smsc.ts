import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./smsc.pl', import.meta.url));

/** Whether perl with Net::SMPP (Debian libnet-smpp-perl) can run the test SMSC here. */
export function perlSmscAvailable(): boolean {
  const probe = spawnSync('perl', ['-MNet::SMPP', '-MJSON::PP', '-MEncode', '-e', '1'], { stdio: 'ignore' });
  return probe.status === 0;
}

export interface SmscEvent {
  event: string;
  [key: string]: unknown;
}

/**
 * The Perl SMSC (smsc.pl) as a child process: its JSON-line events collected in order, its
 * commands written to its stdin. kill() ends it the hard way (SIGKILL) to play a crashed SMSC.
 */
export class PerlSmsc {
  readonly events: SmscEvent[] = [];
  private waiters: { match: (e: SmscEvent) => boolean; resolve: (e: SmscEvent) => void }[] = [];
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(options: { port?: number; systemId?: string; password?: string } = {}): Promise<PerlSmsc> {
    const args = [SCRIPT, '--port', String(options.port ?? 0)];
    if (options.systemId) args.push('--system-id', options.systemId);
    if (options.password) args.push('--password', options.password);
    const child = spawn('perl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const lines = createInterface({ input: child.stdout! });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`smsc.pl exited (${code}): ${stderr}`)));
      lines.once('line', (line) => {
        const first = JSON.parse(line) as SmscEvent;
        if (first.event === 'listening') resolve(Number(first.port));
        else reject(new Error(`smsc.pl said ${line}`));
      });
    });
    const smsc = new PerlSmsc(child, port);
    child.once('exit', () => (smsc.exited = true));
    lines.on('line', (line) => smsc.record(JSON.parse(line) as SmscEvent));
    return smsc;
  }

  private record(event: SmscEvent): void {
    this.events.push(event);
    for (const w of [...this.waiters]) {
      if (w.match(event)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  }

  /** The first event (already seen or coming) that matches; fails after timeoutMs. */
  waitFor(match: (e: SmscEvent) => boolean, timeoutMs = 10_000, from = 0): Promise<SmscEvent> {
    const seen = this.events.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (e: SmscEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`the SMSC did not report the awaited event within ${timeoutMs} ms; last events: ${JSON.stringify(this.events.slice(-5))}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Waits until `count` events match. */
  async waitForCount(match: (e: SmscEvent) => boolean, count: number, timeoutMs = 10_000): Promise<SmscEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.filter(match);
      if (found.length >= count) return found;
      if (Date.now() > deadline) throw new Error(`saw ${found.length} of ${count} awaited SMSC events`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  of(event: string): SmscEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  command(cmd: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  /** Sends a command and waits for the SMSC's acknowledging event. */
  async call(cmd: Record<string, unknown>, ack: string): Promise<SmscEvent> {
    const from = this.events.length;
    this.command(cmd);
    return this.waitFor((e) => e.event === ack || e.event === 'error', 10_000, from);
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await gone;
  }
}
