/**
 * `npm run bench -- routing-server [--engine postgres|pglite] [--tenants 4] [--agents 4] [--rate 500]
 * [--seconds 10] [--capacity 100]`
 *
 * Routing through the server (issue 3): conversations arrive by `POST /api/v1/conversations` at
 * an open-loop `rate` per second, spread over `tenants`; each tenant's `agents` hold the agent
 * socket. Measured: time from sending the arrival to the `routing.offer` frame reaching the
 * offered agent's socket, p50/p99. Agents resolve each offered conversation at once (by API), so
 * the engines stay at a steady state instead of filling up. Target (issue 3): p99 < 50 ms at 500/s
 * on PostgreSQL.
 * Five arrivals per tenant warm the server up first and are not measured; p50/p99 are printed
 * for the whole run and for the arrivals after its first 2 s (steady state).
 * Baseline in the same run: the same arrivals at the same rate to a tenant whose queue has no
 * member, i.e. open-conversation + queueing without the offer (arrival → `conversation.created`
 * on an admin socket).
 */
import { parseArgs } from 'node:util';
import type WebSocket from 'ws';
import { percentile, round } from './stats.ts';
import { cpuMsPer, hello, openSocket, startBenchServer, type BenchServer } from './bench-kit.ts';
import { encodeRequest, RawHttpClient } from './raw-http.ts';

/** Arrivals sent from then on make the steady-state figures, printed beside the whole run's. */
const STEADY_AFTER_MS = 2_000;

interface Agent {
  tenant: number;
  id: string;
  cookie: string;
  csrf: string;
}

export async function main(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      engine: { type: 'string', default: 'postgres' },
      tenants: { type: 'string', default: '4' },
      agents: { type: 'string', default: '4' },
      rate: { type: 'string', default: '500' },
      seconds: { type: 'string', default: '10' },
      capacity: { type: 'string', default: '100' },
      port: { type: 'string', default: '18091' },
    },
  });
  const o = {
    engine: values.engine === 'pglite' ? 'pglite' : 'postgres',
    tenants: Number(values.tenants),
    agents: Number(values.agents),
    rate: Number(values.rate),
    seconds: Number(values.seconds),
    capacity: Number(values.capacity),
    port: Number(values.port),
  } as const;
  console.log(`routing-server bench: ${JSON.stringify(o)}`);

  // The last tenant is the queue-only baseline.
  const server = await startBenchServer({ engine: o.engine, port: o.port, pgPort: 25471, tenants: o.tenants + 1, tenantPrefix: 'route' });
  try {
    const tenants = server.apiKeys.map((key, i) => ({ key, email: `route${i}@example.com` }));
    const routed = await run(server, tenants.slice(0, o.tenants), o, 'routed');
    const baseline = await run(server, tenants.slice(o.tenants), o, 'queue-only');
    const result = {
      bench: 'routing-server',
      engine: o.engine,
      rate: o.rate,
      seconds: o.seconds,
      tenants: o.tenants,
      agentsPerTenant: o.agents,
      arrivals: routed.count,
      offersReceived: routed.received,
      arrivalsFailed: routed.failed,
      p50Ms: routed.p50,
      p99Ms: routed.p99,
      maxMs: routed.max,
      steadyP50Ms: routed.steadyP50,
      steadyP99Ms: routed.steadyP99,
      postAnsweredP50Ms: routed.answeredP50,
      postAnsweredP99Ms: routed.answeredP99,
      achievedRate: routed.achievedRate,
      baselineQueueOnlyP50Ms: baseline.p50,
      baselineQueueOnlyP99Ms: baseline.p99,
      ratioP99ToQueueOnly: round(routed.p99 / baseline.p99, 2),
      serverCpuMsPerArrival: routed.serverCpuMs,
      postgresCpuMsPerArrival: routed.postgresCpuMs,
      baselineServerCpuMsPerArrival: baseline.serverCpuMs,
      baselinePostgresCpuMsPerArrival: baseline.postgresCpuMs,
    };
    console.log(
      `arrival → routing.offer on the agent socket at ${o.rate}/s: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, max ${result.maxMs} ms; after the first ${STEADY_AFTER_MS / 1000} s p50 ${result.steadyP50Ms} ms, p99 ${result.steadyP99Ms} ms (${routed.received}/${routed.count} offers, ${routed.failed} arrivals failed; POST answered p50 ${routed.answeredP50} ms, p99 ${routed.answeredP99} ms); queue-only baseline p50 ${baseline.p50} ms, p99 ${baseline.p99} ms`,
    );
    console.log(
      `CPU per arrival: server ${routed.serverCpuMs} ms, PostgreSQL ${routed.postgresCpuMs} ms (with its resolve); queue-only: server ${baseline.serverCpuMs} ms, PostgreSQL ${baseline.postgresCpuMs} ms`,
    );
    console.log(`p99 per second of the run (ms): routed ${routed.perSecondP99.join(' ')}; queue-only ${baseline.perSecondP99.join(' ')}`);
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await server.stop();
  }
}

async function run(
  server: Pick<BenchServer, 'base' | 'cpuSeconds'>,
  tenants: { key: string; email: string }[],
  o: { agents: number; rate: number; seconds: number; capacity: number },
  mode: 'routed' | 'queue-only',
) {
  const { base } = server;
  const { hostname, port } = new URL(base);
  const client = new RawHttpClient(hostname, Number(port), 256);
  const call = async (auth: { key?: string; cookie?: string; csrf?: string }, method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth.key) headers.authorization = `Bearer ${auth.key}`;
    if (auth.cookie) Object.assign(headers, { cookie: auth.cookie, 'x-csrf-token': auth.csrf ?? '' });
    const { status, body: answer } = await client.send(encodeRequest(client.host, method, `/api/v1${path}`, headers, body === undefined ? '' : JSON.stringify(body)));
    const text = answer.toString();
    if (status >= 300) throw new Error(`${method} ${path}: ${status} ${text}`);
    return (text ? JSON.parse(text) : null) as Record<string, unknown> & { items?: Record<string, unknown>[] };
  };
  const login = async (email: string, password: string) => {
    const res = await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    const body = (await res.json()) as { user: { id: string }; csrfToken: string };
    return { id: body.user.id, cookie: res.headers.getSetCookie().find((c) => c.startsWith('parley_session='))!.split(';')[0]!, csrf: body.csrfToken };
  };

  const inboxes: string[] = [];
  const agents: Agent[] = [];
  for (const [t, tenant] of tenants.entries()) {
    inboxes.push(String((await call({ key: tenant.key }, 'POST', '/inboxes', { name: 'Bench', channelType: 'api' })).id));
    const queue = String((await call({ key: tenant.key }, 'GET', '/routing/queues')).items![0]!.id);
    const admin = await login(tenant.email, 'bench-password-1');
    if (mode === 'queue-only') {
      // Nobody may take the work: measures open-conversation + queueing alone.
      await call({ key: tenant.key }, 'PATCH', `/routing/queues/${queue}`, { members: [] });
      agents.push({ tenant: t, ...admin });
      continue;
    }
    await call({ key: tenant.key }, 'PATCH', `/routing/queues/${queue}`, { offerTimeoutSeconds: 600 });
    agents.push({ tenant: t, ...admin });
    for (let i = 1; i < o.agents; i++) {
      const email = `agent${i}-${t}-${Date.now()}@example.com`;
      const inv = await call({ key: tenant.key }, 'POST', '/invitations', { email, role: 'agent' });
      const token = String(inv.acceptUrl).split('/invite/')[1];
      await call({}, 'POST', `/invitations/${token}/accept`, { name: `Agent ${i}`, password: 'bench-password-1' });
      agents.push({ tenant: t, ...(await login(email, 'bench-password-1')) });
    }
    for (const a of agents.filter((x) => x.tenant === t)) await call({ key: tenant.key }, 'PUT', `/routing/agents/${a.id}/profile`, { skills: {}, capacity: { chat: o.capacity, task: o.capacity } });
  }

  const sentAt = new Map<string, number>();
  const latencies: { sent: number; ms: number }[] = [];
  const answered: number[] = []; // POST → its answer
  const early = new Map<string, number>(); // frames that beat the POST's answer
  const counted = new Set<string>();
  // Agents resolve what they are offered at once, each on their own (no shared limit: a client
  // that resolved 20 at a time fell behind at 500/s and filled every agent's capacity).
  const resolves: Promise<unknown>[] = [];
  const resolve = (tenant: number, id: string) => resolves.push(call({ key: tenants[tenant]!.key }, 'PATCH', `/conversations/${id}`, { status: 'resolved' }).catch(() => undefined));
  const sockets: WebSocket[] = [];
  for (const a of agents) {
    const ws = await openSocket(`${base.replace(/^http/, 'ws')}/api/v1/realtime`, { cookie: a.cookie, origin: base });
    await hello(ws);
    const wanted = Buffer.from(mode === 'routed' ? '"type":"routing.offer"' : '"type":"routing.conversation"');
    ws.on('message', (raw: Buffer) => {
      const now = performance.now();
      // Agents' sockets carry every event of their tenant: only the awaited kind is decoded and parsed (the client shares the CPU with the server).
      if (!raw.includes(wanted)) return;
      const frame = JSON.parse(raw.toString()) as { type: string; event?: { type: string; data: Record<string, unknown> } };
      if (frame.type !== 'event' || !frame.event) return;
      let conversationId: string | undefined;
      if (mode === 'routed' && frame.event.type === 'routing.offer') {
        const offer = frame.event.data.offer as { agentId: string; conversationId: string };
        if (offer.agentId !== a.id) return;
        conversationId = offer.conversationId;
        resolve(a.tenant, conversationId);
      } else if (mode === 'queue-only' && frame.event.type === 'routing.conversation') {
        conversationId = frame.event.data.conversationId as string;
      }
      if (!conversationId || counted.has(conversationId)) return;
      counted.add(conversationId);
      const sent = sentAt.get(conversationId);
      if (sent === undefined) early.set(conversationId, now);
      else latencies.push({ sent, ms: now - sent });
    });
    sockets.push(ws);
  }
  // Agents wait for their sockets to count as connected (routing hears of them asynchronously).
  await new Promise((r) => setTimeout(r, 1000));

  // Warm-up, not measured: the first arrivals of a fresh server pay for compiling code paths and
  // loading each tenant's engine and caches (100–250 ms), which would otherwise be the run's p99.
  for (let round = 0; round < 5; round++) {
    await Promise.all(tenants.map((tenant, t) => call({ key: tenant.key }, 'POST', '/conversations', { inboxId: inboxes[t], contact: { name: `Warm-up ${round}` } })));
  }
  await new Promise((r) => setTimeout(r, 500));

  const total = Math.round(o.rate * o.seconds);
  // An arrival refused or timed out (an overloaded server) is counted, not fatal to the run.
  let failed = 0;
  const cpuBefore = server.cpuSeconds();
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const t = i % tenants.length;
    const sent = performance.now();
    inflight.push(
      call({ key: tenants[t]!.key }, 'POST', '/conversations', { inboxId: inboxes[t], contact: { name: `Arrival ${i}` } }).then((c) => {
        const id = String(c.id);
        answered.push(performance.now() - sent);
        sentAt.set(id, sent);
        const seen = early.get(id);
        if (seen !== undefined) latencies.push({ sent, ms: seen - sent });
      }, () => void failed++),
    );
  }
  await Promise.all(inflight);
  const achievedRate = round(total / ((performance.now() - start) / 1000));
  const deadline = Date.now() + 15_000;
  while (latencies.length < total - failed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await Promise.all(resolves);
  const cpu = cpuMsPer(cpuBefore, server.cpuSeconds(), total, 2);
  for (const ws of sockets) ws.close();
  client.destroy();
  const sorted = latencies.map((l) => l.ms).sort((x, y) => x - y);
  // The same figures without the run's first seconds, which also measure a cold server (plans, caches, JIT).
  const steady = latencies.filter((l) => l.sent - start >= STEADY_AFTER_MS).map((l) => l.ms).sort((x, y) => x - y);
  answered.sort((x, y) => x - y);
  // Where in the run the tail is: a cold first second, a spike, or spread out.
  const bySecond = new Map<number, number[]>();
  for (const l of latencies) {
    const second = Math.floor((l.sent - start) / 1000);
    if (!bySecond.has(second)) bySecond.set(second, []);
    bySecond.get(second)!.push(l.ms);
  }
  const perSecondP99 = [...bySecond].sort(([a], [b]) => a - b).map(([, ms]) => Math.round(percentile(ms.sort((x, y) => x - y), 99)));
  return {
    perSecondP99,
    // CPU per arrival (with its resolve when routed), in ms: steadier than latency on a shared VM.
    serverCpuMs: cpu.server,
    postgresCpuMs: cpu.postgres,
    count: total,
    failed,
    received: sorted.length,
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? NaN),
    steadyP50: round(percentile(steady, 50)),
    steadyP99: round(percentile(steady, 99)),
    answeredP50: round(percentile(answered, 50)),
    answeredP99: round(percentile(answered, 99)),
    achievedRate,
  };
}
