/**
 * `npm run bench -- smpp [--messages 20000] [--windows 1,10,50]`
 *
 * submit_sm throughput of Parley's ESME (apps/server/src/channels/sms/smpp) over one bind to
 * the Net::SMPP test SMSC (smsc.pl, quiet), per window size: each message encoded (GSM-7) and
 * submitted, the SMSC's submit_sm_resp awaited. Baseline in the same run, against the same
 * SMSC process: a bare socket client that writes pre-encoded submit_sm PDUs with the same
 * window and only counts responses. The ratio says what the ESME costs over the wire protocol.
 * Each window runs `--rounds` times, baseline and ESME alternating, and the medians count; the
 * client's CPU time per submit_sm is reported too (less sensitive to a busy machine).
 */
import net from 'node:net';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { encodeSms } from '../apps/server/src/channels/sms/smpp/encoding.ts';
import { EsmeSession } from '../apps/server/src/channels/sms/smpp/esme.ts';
import { encodePdu, PduFramer, shortMessageBody, Status, type ShortMessageBody } from '../apps/server/src/channels/sms/smpp/pdu.ts';
import { PerlSmsc, perlSmscAvailable } from '../apps/server/src/channels/sms/smpp/testing/perl-smsc.ts';
import { round } from './stats.ts';

const TEXT = 'Your order 4711 has shipped and arrives tomorrow. Reply STOP to opt out.';

const submitBody = (shortMessage: Buffer, dataCoding: number, esmClass: number): ShortMessageBody =>
  shortMessageBody({ sourceAddr: '5215540001000', destinationAddr: '5215550000001', registeredDelivery: 1, esmClass, dataCoding, shortMessage });

interface Run {
  perSecond: number;
  /** CPU time of this (client) process per submit_sm, µs. */
  cpuMicrosPerMessage: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Parley's ESME: encode each text, submit with at most `window` in flight, await every answer. */
async function esmeRun(port: number, messages: number, window: number): Promise<Run> {
  const session = new EsmeSession(
    {
      host: '127.0.0.1',
      port,
      tls: false,
      systemId: 'bench',
      password: 'bench',
      systemType: '',
      windowSize: window,
      maxSubmitsPerSecond: null,
      enquireLinkMs: 30_000,
      responseTimeoutMs: 30_000,
      queueTimeoutMs: 60_000,
      reconnectMinMs: 1_000,
      reconnectMaxMs: 5_000,
      privateTargets: ['127.0.0.1'],
    },
    { onDeliver: async () => Status.ESME_ROK },
    pino({ level: 'warn' }),
  );
  session.start();
  await session.waitBound(5_000);
  let next = 0;
  let failed = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  // Twice the window of senders keeps the window full, as the send job's workers would.
  await Promise.all(
    Array.from({ length: window * 2 }, async () => {
      while (next < messages) {
        next++;
        const encoded = encodeSms(TEXT, next & 0xff);
        const answer = await session.submit(submitBody(encoded.parts[0]!, encoded.dataCoding, encoded.esmClass));
        if (answer.status !== 0 || !answer.messageId) failed++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await session.stop();
  if (failed) throw new Error(`${failed} submit_sm were refused`);
  return { perSecond: messages / seconds, cpuMicrosPerMessage: (used.user + used.system) / messages };
}

/** The baseline: pre-encoded PDUs written to a bare socket, `window` unanswered at most, responses only counted. */
async function rawRun(port: number, messages: number, window: number): Promise<Run> {
  const encoded = encodeSms(TEXT, 1);
  const body = submitBody(encoded.parts[0]!, encoded.dataCoding, encoded.esmClass);
  const pdus = Array.from({ length: messages }, (_, i) => encodePdu({ command: 'submit_sm', status: 0, sequence: i + 2, body }));
  const bind = encodePdu({ command: 'bind_transceiver', status: 0, sequence: 1, body: { systemId: 'bench', password: 'bench', systemType: '', interfaceVersion: 0x34, addrTon: 0, addrNpi: 0, addressRange: '' } });
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  const framer = new PduFramer();
  let started = 0;
  let cpu = process.cpuUsage();
  let sent = 0;
  let answered = 0;
  return new Promise((resolve, reject) => {
    socket.on('error', reject);
    socket.on('connect', () => socket.write(bind));
    socket.on('data', (chunk: Buffer) => {
      for (const frame of framer.push(chunk)) {
        const command = frame.readUInt32BE(4);
        if (command === 0x80000009) {
          started = performance.now();
          cpu = process.cpuUsage();
        }
        else if (command === 0x80000004) answered++;
        else continue;
        if (answered === messages) {
          const seconds = (performance.now() - started) / 1000;
          const used = process.cpuUsage(cpu);
          socket.end();
          resolve({ perSecond: messages / seconds, cpuMicrosPerMessage: (used.user + used.system) / messages });
          return;
        }
        while (sent < messages && sent - answered < window) socket.write(pdus[sent++]!);
      }
    });
  });
}

export async function main(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { messages: { type: 'string', default: '20000' }, windows: { type: 'string', default: '1,10,50' }, rounds: { type: 'string', default: '3' } } });
  const messages = Number(values.messages);
  const rounds = Number(values.rounds);
  const windows = values.windows.split(',').map(Number);
  if (!perlSmscAvailable()) throw new Error('the SMPP bench needs perl with Net::SMPP (Debian libnet-smpp-perl)');
  console.log(`smpp bench: ${JSON.stringify({ messages, windows, rounds })}`);
  const smsc = await PerlSmsc.start();
  await smsc.call({ cmd: 'quiet', value: 1 }, 'quiet');
  const results: Record<string, number>[] = [];
  try {
    // Warm both paths (JIT) before measuring.
    await rawRun(smsc.port, 2_000, 10);
    await esmeRun(smsc.port, 2_000, 10);
    for (const window of windows) {
      const baseline: Run[] = [];
      const parley: Run[] = [];
      for (let r = 0; r < rounds; r++) {
        baseline.push(await rawRun(smsc.port, messages, window));
        parley.push(await esmeRun(smsc.port, messages, window));
      }
      const row = {
        window,
        parleyPerSecond: round(median(parley.map((p) => p.perSecond))),
        baselinePerSecond: round(median(baseline.map((p) => p.perSecond))),
        ratio: 0,
        parleyCpuMicrosPerMessage: round(median(parley.map((p) => p.cpuMicrosPerMessage))),
        baselineCpuMicrosPerMessage: round(median(baseline.map((p) => p.cpuMicrosPerMessage))),
      };
      row.ratio = round(row.parleyPerSecond / row.baselinePerSecond, 2);
      results.push(row);
      console.log(
        `window ${window}: Parley ESME ${row.parleyPerSecond} submit_sm/s (${row.parleyCpuMicrosPerMessage} µs CPU each), bare-socket baseline ${row.baselinePerSecond}/s (${row.baselineCpuMicrosPerMessage} µs), ratio ${row.ratio}`,
      );
    }
  } finally {
    await smsc.kill();
  }
  console.log(JSON.stringify({ bench: 'smpp', messages, results }));
}
