import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentDecode } from '../providers/kannel.ts';
import { decodeUcs2, encodeGsm7, encodeUcs2 } from '../smpp/encoding.ts';

/**
 * A real Kannel for tests, from Debian's `kannel` (bearerbox, smsbox) and `kannel-extras`
 * (fakesmsc): bearerbox with the `fake` SMSC, smsbox with one sms-service whose get-url is
 * Parley's webhook, and fakesmsc connected to the fake SMSC playing the handset. Everything
 * runs from a generated kannel.conf in a temp dir on free ports, and is stopped by `stop()`
 * (also when starting fails halfway).
 */

/** Longest fakesmsc line bearerbox's fake SMSC reads at once (found by trying: 246 bytes pass, 264 wait for the next line). */
const MAX_HANDSET_LINE = 250;

const BINARIES = { bearerbox: '/usr/sbin/bearerbox', smsbox: '/usr/sbin/smsbox', fakesmsc: '/usr/lib/kannel/test/fakesmsc' };

/** The Kannel programs that are missing on this machine (empty: a Kannel can be started). */
export function missingKannelBinaries(): string[] {
  return Object.values(BINARIES).filter((path) => !existsSync(path));
}

/**
 * Whether tests of a real Kannel must be skipped: only when its programs are missing and
 * PARLEY_REQUIRE_PEERS is not set (CI sets it, so there a missing Kannel fails the tests), and loudly.
 */
export function skipWithoutKannel(what: string): boolean {
  const missing = missingKannelBinaries();
  if (missing.length === 0 || process.env.PARLEY_REQUIRE_PEERS) return false;
  console.warn(`\n*** SKIPPING ${what}: ${missing.join(', ')} missing. Install Debian packages kannel and kannel-extras (scripts/install-test-deps.sh). ***\n`);
  return true;
}

/** One text the handset (fakesmsc) received from Kannel. */
export interface HandsetMessage {
  from: string;
  to: string;
  text: string;
}

export interface KannelPeer {
  /** smsbox's sendsms URL and the sendsms-user's credentials, as an admin enters them in the inbox. */
  sendUrl: string;
  username: string;
  password: string;
  /** The handset sends one text (GSM-7 texts as plain text, others as UCS-2, as a phone would); resolves once fakesmsc passed it to Kannel. */
  handsetSends(from: string, to: string, text: string): Promise<void>;
  /** The handset leaves the network (fakesmsc disconnects): bearerbox holds texts for it until it is back. */
  handsetOffline(): Promise<void>;
  /** The handset is back (a new fakesmsc connects) and receives what bearerbox held. */
  handsetOnline(): Promise<void>;
  /** What the handset received so far. */
  handsetReceived(): HandsetMessage[];
  /** Waits until the handset received a text matching `match`. */
  waitForHandset(match: (m: HandsetMessage) => boolean, timeoutMs?: number): Promise<HandsetMessage>;
  /** Kannel's own status page (bearerbox admin), for failure messages. */
  status(): Promise<string>;
  /** bearerbox's and smsbox's logs and fakesmsc's output, for failure messages. */
  logs(): Promise<string>;
  /** The URLs smsbox has called so far (get-url and dlr-url, retries included), from its log. */
  calledUrls(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface KannelOptions {
  /** The sms-service's get-url, with Kannel's escapes (%I, %p …). */
  getUrl: string;
  /** More sms-services chosen by the text's first word (a keyword), each with its own get-url. */
  keywordServices?: { keyword: string; getUrl: string }[];
  /** smsbox retries of a failed get-url / dlr-url call. */
  httpRetries?: number;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Kannel's config syntax: a quoted string, backslash and quote escaped. */
const quoted = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export async function startKannel(options: KannelOptions): Promise<KannelPeer> {
  const missing = missingKannelBinaries();
  if (missing.length) throw new Error(`Kannel binaries missing: ${missing.join(', ')} (Debian packages kannel, kannel-extras)`);
  const dir = await mkdtemp(join(tmpdir(), 'parley-kannel-'));
  const [adminPort, boxPort, sendsmsPort, fakePort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const adminPassword = 'kannel-admin';
  const username = 'parley';
  const password = 'sendsms-secret';
  const conf = [
    'group = core',
    `admin-port = ${adminPort}`,
    `admin-password = ${adminPassword}`,
    'admin-interface = 127.0.0.1',
    'admin-allow-ip = 127.0.0.1',
    `smsbox-port = ${boxPort}`,
    'box-allow-ip = 127.0.0.1',
    'log-level = 0',
    `log-file = ${quoted(join(dir, 'bearerbox.log'))}`,
    'dlr-storage = internal',
    '',
    'group = smsc',
    'smsc = fake',
    'smsc-id = fake',
    `port = ${fakePort}`,
    'connect-allow-ip = 127.0.0.1',
    '',
    'group = smsbox',
    'bearerbox-host = 127.0.0.1',
    `bearerbox-port = ${boxPort}`,
    `sendsms-port = ${sendsmsPort}`,
    'sendsms-interface = 127.0.0.1',
    'log-level = 0',
    `log-file = ${quoted(join(dir, 'smsbox.log'))}`,
    `http-request-retry = ${options.httpRetries ?? 3}`,
    'http-queue-delay = 1',
    '',
    'group = sendsms-user',
    `username = ${username}`,
    `password = ${password}`,
    'concatenation = true',
    'max-messages = 10',
    '',
    'group = sms-service',
    'keyword = default',
    'catch-all = true',
    // No reply SMS from smsbox: Parley answers the handset through sendsms like any agent reply.
    'max-messages = 0',
    'omit-empty = true',
    `get-url = ${quoted(options.getUrl)}`,
    '',
    ...(options.keywordServices ?? []).flatMap((service) => ['group = sms-service', `keyword = ${service.keyword}`, 'catch-all = true', 'max-messages = 0', 'omit-empty = true', `get-url = ${quoted(service.getUrl)}`, '']),
  ].join('\n');
  const confFile = join(dir, 'kannel.conf');
  await writeFile(confFile, conf);

  const children: ChildProcess[] = [];
  const received: HandsetMessage[] = [];
  const handsetLog: string[] = [];
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const status = async () => {
    try {
      return await (await fetch(`${adminUrl}/status.txt?password=${adminPassword}`, { signal: AbortSignal.timeout(2000) })).text();
    } catch (err) {
      return `bearerbox admin unreachable: ${(err as Error).message}`;
    }
  };
  const readLog = (name: string) => readFile(join(dir, name), 'utf8').catch(() => '');
  // bearerbox and smsbox log to their files; their console output is dropped, not piped: an unread pipe fills and blocks them mid-write.
  const start = (path: string, args: string[], stdio: 'pipe' | 'ignore' = 'ignore') => {
    const child = spawn(path, args, { cwd: dir, stdio: [stdio, stdio, stdio] });
    children.push(child);
    child.on('error', () => undefined);
    return child;
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(children.map((child) => stopChild(child)));
    await rm(dir, { recursive: true, force: true });
  };

  try {
    start(BINARIES.bearerbox, [confFile]);
    // The fake SMSC listens once bearerbox has read its config; its admin page answers then too.
    await waitFor(async () => (await status()).includes('SMSC connections'), 15_000, 'bearerbox admin page');
    start(BINARIES.smsbox, [confFile]);
    // fakesmsc logs every text it receives: `Got message N: <from to type data>`, and `sent message N` for each it sent.
    let handset: ChildProcess;
    let handsetSent = 0;
    const connectHandset = async () => {
      handset = start(BINARIES.fakesmsc, ['-H', '127.0.0.1', '-r', String(fakePort), '-i', '0.01'], 'pipe');
      handsetSent = 0;
      let pending = '';
      const onOutput = (chunk: string) => {
        pending += chunk;
        let newline: number;
        while ((newline = pending.indexOf('\n')) !== -1) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          handsetLog.push(line);
          const got = /Got message \d+: <(\S+) (\S+) (\S+) (.*)>\s*$/.exec(line);
          if (got) received.push({ from: got[1]!, to: got[2]!, text: decodeHandsetData(got[3]!, got[4]!) });
          if (/fakesmsc: sent message \d+/.test(line)) handsetSent++;
        }
      };
      handset.stdout!.setEncoding('utf8').on('data', onOutput);
      handset.stderr!.setEncoding('utf8').on('data', onOutput);
      await waitFor(async () => /fake\[fake\].*\(online/.test(await status()), 15_000, 'fakesmsc connected to bearerbox');
    };
    let handsetQueue: Promise<void> = Promise.resolve();
    await connectHandset();
    await waitFor(async () => /smsbox:.*on-line/.test(await status()), 15_000, 'smsbox connected to bearerbox');
    await waitFor(async () => (await fetch(`http://127.0.0.1:${sendsmsPort}/cgi-bin/sendsms`).catch(() => null)) !== null, 15_000, 'smsbox sendsms port');
    return {
      sendUrl: `http://127.0.0.1:${sendsmsPort}/cgi-bin/sendsms`,
      username,
      password,
      handsetSends(from, to, text) {
        // fakesmsc's message syntax: `sender receiver type data`; `ucs2` data is UTF-16BE, URL-encoded.
        const line = encodeGsm7(text) !== null && !/[\r\n]/.test(text) ? `${from} ${to} text ${text}` : `${from} ${to} ucs2 ${urlEncodeBytes(encodeUcs2(text))}`;
        // bearerbox's fake SMSC holds back a line longer than about 255 bytes until the next one arrives.
        if (Buffer.byteLength(line) > MAX_HANDSET_LINE) return Promise.reject(new Error(`fakesmsc line of ${Buffer.byteLength(line)} bytes: keep handset texts shorter (at most ${MAX_HANDSET_LINE} bytes a line)`));
        // fakesmsc takes one line per readable stdin, so lines are written one at a time, each after the last was sent.
        const send = handsetQueue.then(async () => {
          const target = handsetSent + 1;
          handset.stdin!.write(`${line}\n`);
          await waitFor(async () => handsetSent >= target, 10_000, 'fakesmsc to send the text');
        });
        handsetQueue = send.catch(() => undefined);
        return send;
      },
      async handsetOffline() {
        await stopChild(handset);
        await waitFor(async () => /fake\[fake\].*\(re-connecting/.test(await status()), 15_000, 'bearerbox to notice the handset is gone');
      },
      handsetOnline: connectHandset,
      handsetReceived: () => [...received],
      async waitForHandset(match, timeoutMs = 15_000) {
        let found: HandsetMessage | undefined;
        await waitFor(async () => Boolean((found = received.find(match))), timeoutMs, 'a text on the handset');
        return found!;
      },
      status,
      logs: async () => `--- bearerbox.log ---\n${await readLog('bearerbox.log')}\n--- smsbox.log ---\n${await readLog('smsbox.log')}\n--- fakesmsc ---\n${handsetLog.join('\n')}`,
      async calledUrls() {
        return [...(await readLog('smsbox.log')).matchAll(/Parsing URL `([^']*)':/g)].map((m) => m[1]!);
      },
      stop,
    };
  } catch (err) {
    const detail = `${(err as Error).message}\n--- status ---\n${await status()}\n--- bearerbox.log (tail) ---\n${(await readLog('bearerbox.log')).slice(-3000)}`;
    await stop();
    throw new Error(`Kannel did not start: ${detail}`);
  }
}

/** Data of a fakesmsc line: `text` as is, `data`/`udh` URL-encoded bytes, `ucs-2` URL-encoded UTF-16BE. */
function decodeHandsetData(type: string, data: string): string {
  if (type === 'text') return data;
  const bytes = percentDecode(data);
  return type === 'ucs-2' || type === 'ucs2' ? decodeUcs2(bytes) : bytes.toString('utf8');
}

/** Letters and digits as themselves, every other byte as %XX: the shortest line fakesmsc decodes. */
function urlEncodeBytes(bytes: Buffer): string {
  return [...bytes].map((b) => (/[A-Za-z0-9]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`)).join('');
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM, then SIGKILL if the program has not exited within a few seconds (bearerbox drains its queues first). */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.end();
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
