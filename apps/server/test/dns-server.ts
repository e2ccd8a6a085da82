import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promises as dns } from 'node:dns';

export const DNSMASQ = '/usr/sbin/dnsmasq';
export const hasDnsmasq = existsSync(DNSMASQ);

export interface TestDnsServer {
  /** For `PARLEY_DNS_SERVERS` / `dns.Resolver#setServers`. */
  server: string;
  stop(): Promise<void>;
}

/**
 * A real DNS server on loopback (Debian's dnsmasq) answering the given TXT records, and
 * NXDOMAIN for every other name under `.test`: the DNS that SPF, DKIM and DMARC checks read.
 */
export async function startDnsServer(txt: Record<string, string>): Promise<TestDnsServer> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-dns-'));
  const port = await freeUdpPort();
  // A TXT string holds at most 255 bytes: longer texts (DKIM keys) are split into several strings.
  const records = Object.entries(txt).map(([name, text]) => `txt-record=${name},${(text.match(/.{1,200}/g) ?? ['']).map((s) => `"${s}"`).join(',')}`);
  await writeFile(join(dir, 'dnsmasq.conf'), ['no-resolv', 'no-hosts', `port=${port}`, 'listen-address=127.0.0.1', 'bind-interfaces', 'local=/test/', ...records].join('\n') + '\n');
  const child: ChildProcess = spawn(DNSMASQ, ['--keep-in-foreground', '--user=root', '--pid-file=', `--conf-file=${join(dir, 'dnsmasq.conf')}`], { stdio: 'ignore' });
  const server = `127.0.0.1:${port}`;
  await waitForAnswer(server, child);
  return {
    server,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForAnswer(server: string, child: ChildProcess): Promise<void> {
  const resolver = new dns.Resolver({ timeout: 200, tries: 1 });
  resolver.setServers([server]);
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) throw new Error(`dnsmasq exited with ${child.exitCode}`);
    try {
      await resolver.resolveTxt('ready.test');
      return;
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOTFOUND') return; // NXDOMAIN: it is answering
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('dnsmasq did not answer');
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}
