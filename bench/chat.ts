/**
 * `npm run bench -- chat [--engine pglite|postgres] [--tenants 4] [--agents 2] [--visitors 200]
 * [--messages 25] [--window 2] [--rate N] [--latency-seconds 5]`
 *
 * Visitors send chat messages over the widget socket to a Parley server (its own process) while
 * agents hold the agent socket. Phase 1 (closed loop, `window` messages in flight per visitor):
 * messages per second stored and delivered to every agent socket of the tenant. Phase 2 (open
 * loop at `--rate`, default half of phase 1): latency from the visitor's send to the first
 * agent's receipt, p50 and p99.
 * Baselines in the same run: plain INSERTs of the same message rows through the same driver at
 * the same concurrency, and a plain `ws` echo at the same number of sockets and window.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import { percentile, round } from './stats.ts';
import { cpuMsPer, hello, openSocket, rawInsertBaseline, startBenchServer, type BenchServer } from './bench-kit.ts';

export async function main(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      engine: { type: 'string', default: 'postgres' },
      tenants: { type: 'string', default: '4' },
      agents: { type: 'string', default: '2' },
      visitors: { type: 'string', default: '200' },
      messages: { type: 'string', default: '25' },
      window: { type: 'string', default: '2' },
      port: { type: 'string', default: '18090' },
      rate: { type: 'string' },
      'latency-seconds': { type: 'string', default: '5' },
    },
  });
  const o = {
    engine: values.engine === 'pglite' ? 'pglite' : 'postgres',
    tenants: Number(values.tenants),
    agents: Number(values.agents),
    visitors: Number(values.visitors),
    messages: Number(values.messages),
    window: Number(values.window),
    port: Number(values.port),
    rate: values.rate ? Number(values.rate) : undefined,
    latencySeconds: Number(values['latency-seconds']),
  } as const;
  console.log(`chat bench: ${JSON.stringify(o)}`);

  const server = await startBenchServer({ engine: o.engine, port: o.port, tenants: o.tenants, tenantPrefix: 'bench' });
  try {
    const system = await runChat(server, o);
    const baseline = await rawInsertBaseline(o.engine, server.databaseUrl, server.dataDir, o.visitors * o.messages, 10);
    const echo = await wsEchoBaseline(o.visitors, o.messages, o.window);
    const result = {
      bench: 'chat',
      engine: o.engine,
      ...system,
      rawInsertsPerSec: round(baseline),
      wsEchoPerSec: round(echo),
      ratioToRawInsert: round(system.messagesPerSec / baseline, 3),
      ratioToWsEcho: round(system.messagesPerSec / echo, 3),
    };
    console.log(`stored+delivered ${result.messagesPerSec} msg/s (saturated p50 ${result.saturatedP50Ms} ms); at ${result.latencyRatePerSec} msg/s: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms; raw inserts ${result.rawInsertsPerSec}/s, ws echo ${result.wsEchoPerSec}/s; CPU per message at that rate: server ${result.serverCpuMsPerMessage} ms, PostgreSQL ${result.postgresCpuMsPerMessage} ms`);
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await server.stop();
  }
}

async function runChat(server: Pick<BenchServer, 'base' | 'apiKeys' | 'cpuSeconds'>, o: { agents: number; visitors: number; messages: number; window: number; rate?: number; latencySeconds: number }) {
  const { base, apiKeys: keys } = server;
  const wsBase = base.replace(/^http/, 'ws');
  const api = async (key: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, { method: body ? 'POST' : 'GET', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, string>>;
  };
  const inboxes = await Promise.all(keys.map((k) => api(k, '/api/v1/inboxes', { name: 'Bench', channelType: 'webchat' })));

  // What every agent socket of the tenant received, per message.
  const sentAt = new Map<string, number>();
  const receipts = new Map<string, number>();
  let latencies: number[] = [];
  let delivered = 0;
  let lastDelivery = 0;
  let target = 0;
  let reached: (() => void) | null = null;

  const agentSockets = await Promise.all(
    keys.flatMap((key) =>
      Array.from({ length: o.agents }, async () => {
        const ws = await openSocket(`${wsBase}/api/v1/realtime`, { authorization: `Bearer ${key}` });
        ws.on('message', (raw: Buffer) => {
          // Taken before any work on the frame; the frame is read as bytes, parsed only in the part
          // measured (agents' sockets carry every event of the tenant, and this client shares the
          // two cores and its own event loop with the timestamps it takes).
          const now = performance.now();
          const id = customerMessageId(raw);
          if (!id) return;
          const count = (receipts.get(id) ?? 0) + 1;
          receipts.set(id, count);
          if (count === 1) latencies.push(now - sentAt.get(id)!);
          if (count === o.agents) {
            delivered++;
            lastDelivery = now;
            if (delivered === target) reached?.();
          }
        });
        await hello(ws, { type: 'hello', lastSeq: null });
        return ws;
      }),
    ),
  );

  const visitors = await Promise.all(
    Array.from({ length: o.visitors }, async (_, v) => {
      const inbox = inboxes[v % inboxes.length]!;
      const res = await fetch(`${base}/api/v1/widget/inboxes/${inbox.publicId}/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: `Visitor ${v}`, email: `v${v}@example.com` }) });
      const { token } = (await res.json()) as { token: string };
      const ws = await openSocket(`${wsBase}/api/v1/widget/realtime?inbox=${inbox.publicId}`, {});
      await hello(ws, { type: 'hello', lastSeq: null, token });
      return ws;
    }),
  );
  let sequence = 0;
  const send = (v: number) => {
    const id = `b${v}-${sequence++}-${randomUUID().slice(0, 8)}`;
    sentAt.set(id, performance.now());
    visitors[v]!.send(JSON.stringify({ type: 'message', clientMessageId: id, content: `message ${sequence} from visitor ${v}` }));
  };
  const allDelivered = (count: number) =>
    new Promise<void>((resolve) => {
      target = delivered + count;
      reached = resolve;
      if (delivered >= target) resolve();
      setTimeout(resolve, 60_000);
    });

  // Phase 1, throughput: every visitor keeps `window` messages in flight until it sent `messages`.
  const total = o.visitors * o.messages;
  const phase1 = allDelivered(total);
  const started = performance.now();
  const sentBy = visitors.map(() => 0);
  visitors.forEach((ws, v) => {
    ws.on('message', (raw: Buffer) => {
      if (raw.includes(ERROR_FRAME)) console.error(raw.toString());
      if (!openLoop && raw.includes(ACK_FRAME) && sentBy[v]! < o.messages) {
        sentBy[v]!++;
        send(v);
      }
    });
  });
  let openLoop = false;
  visitors.forEach((_, v) => {
    for (let i = 0; i < o.window && sentBy[v]! < o.messages; i++) {
      sentBy[v]!++;
      send(v);
    }
  });
  await phase1;
  const seconds = (lastDelivery - started) / 1000;
  const throughput = delivered / seconds;
  const throughputLatencies = [...latencies].sort((a, b) => a - b);

  // Phase 2, latency: an open-loop stream at a steady rate below saturation.
  openLoop = true;
  latencies = [];
  const rate = o.rate ?? Math.max(50, Math.floor(throughput * 0.5));
  const count = Math.floor(rate * o.latencySeconds);
  const phase2 = allDelivered(count);
  const cpuBefore = server.cpuSeconds();
  const phase2Start = performance.now();
  for (let i = 0; i < count; i++) {
    const due = phase2Start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    send(i % visitors.length);
  }
  await phase2;
  const cpu = cpuMsPer(cpuBefore, server.cpuSeconds(), count, 3);
  latencies.sort((a, b) => a - b);
  for (const ws of [...visitors, ...agentSockets]) ws.close();
  return {
    messages: total,
    delivered: delivered - count,
    seconds: round(seconds, 2),
    messagesPerSec: round(throughput),
    saturatedP50Ms: round(percentile(throughputLatencies, 50), 1),
    saturatedP99Ms: round(percentile(throughputLatencies, 99), 1),
    latencyRatePerSec: rate,
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    // CPU per message of the open-loop phase, in ms: steadier than latency on a shared VM.
    serverCpuMsPerMessage: cpu.server,
    postgresCpuMsPerMessage: cpu.postgres,
  };
}

const ERROR_FRAME = Buffer.from('"type":"error"');
const ACK_FRAME = Buffer.from('"type":"ack"');
const MESSAGE_CREATED = Buffer.from('"type":"message.created"');
const INBOUND = Buffer.from('"direction":"in"');
const CLIENT_MESSAGE_ID = Buffer.from('"clientMessageId":"');

/** The clientMessageId of a customer's message.created frame (an agent's socket), else undefined; read off the bytes. */
function customerMessageId(frame: Buffer): string | undefined {
  if (!frame.includes(MESSAGE_CREATED) || !frame.includes(INBOUND)) return undefined;
  const at = frame.indexOf(CLIENT_MESSAGE_ID);
  if (at < 0) return undefined;
  const from = at + CLIENT_MESSAGE_ID.length;
  return frame.toString('latin1', from, frame.indexOf(0x22, from));
}

/** A plain ws echo server and the same number of sockets and window: round trips per second. */
async function wsEchoBaseline(sockets: number, messages: number, window: number): Promise<number> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(m.toString())));
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as { port: number }).port;
  const clients = await Promise.all(Array.from({ length: sockets }, () => openSocket(`ws://127.0.0.1:${port}`, {})));
  const started = performance.now();
  await Promise.all(
    clients.map(
      (ws, c) =>
        new Promise<void>((resolve) => {
          let sent = 0;
          let got = 0;
          const send = () => ws.send(JSON.stringify({ type: 'message', clientMessageId: `e${c}-${sent++}`, content: `message ${sent}` }));
          ws.on('message', (raw) => {
            JSON.parse(raw.toString());
            if (++got === messages) resolve();
            else if (sent < messages) send();
          });
          for (let i = 0; i < window; i++) send();
        }),
    ),
  );
  const rate = (sockets * messages) / ((performance.now() - started) / 1000);
  for (const ws of clients) ws.close();
  wss.close();
  return rate;
}
