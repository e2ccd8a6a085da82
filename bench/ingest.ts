/**
 * `npm run bench -- ingest [--rates 250,500,1000,2000,3000] [--seconds 5]
 * [--senders 3000] [--tenants 4] [--connections 512] [--kill]`
 *
 * On PostgreSQL. Signed provider webhooks (Twilio, Sinch, Vonage, WhatsApp, Messenger, Instagram, in turn,
 * to the inboxes of `tenants` tenants in turn) sent to one Parley node at rising open-loop rates, one in ten a duplicate of an earlier delivery (a
 * provider retrying). Per rate: webhooks answered per second, p50/p99 response time, errors. Two
 * rates per step: `answeredPerSec`, every delivery over the time to the last answer (it reads a
 * step the server kept up with low by its last answers' latency), and `steadyPerSec`, the answers
 * that completed from the step's second second to its last send, per second: the offered rate
 * when the server keeps up (more while it drains what it queued earlier), its capacity when it
 * cannot. A step is sustained, at up to its offered rate, when it had no errors
 * and its steady rate is at least 98 % of the offered rate (a step the server falls behind in by
 * more than the window's measuring error is not). At
 * the end: messages stored against distinct messages acknowledged (duplicates stored must be 0,
 * losses must be 0), conversations waiting in the routing queue against conversations opened.
 * `--kill`: halfway through the highest rate the server is killed with SIGKILL and started again
 * while the sender keeps retrying every delivery that got no 2xx, as a provider does.
 * Baseline in the same run: plain INSERTs of the same number of message rows through the same
 * driver (see rawInsertBaseline).
 */
import { createHmac } from 'node:crypto';
import { parseArgs } from 'node:util';
import { signLikeTwilio, signLikeVonage } from '../apps/server/src/channels/sms/testing/fake-sms-provider.ts';
import { openDatabase } from '../apps/server/src/db/database.ts';
import { percentile, round } from './stats.ts';
import { rawInsertBaseline, startBenchServer, type BenchServer } from './bench-kit.ts';
import { encodeRequest, RawHttpClient } from './raw-http.ts';

interface Delivery {
  /** The provider's message id: what must be stored exactly once. */
  id: string;
  /** The whole HTTP request, signed and encoded before the step's clock starts. */
  bytes: Buffer;
}

type Provider = (n: number, sender: string) => Delivery;

/** A provider's webhook before encoding. */
interface Webhook {
  id: string;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

const DEAD_URL = 'http://127.0.0.1:1';
const TEXTS = ['Hola, ¿mi pedido ya salió?', 'Olá! Vocês entregam em Porto Alegre?', 'Hi, I need to change my delivery address', 'Necesito factura, por favor', 'Obrigado pela ajuda 🙏'];

export async function main(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      rates: { type: 'string', default: '250,500,1000,2000,3000' },
      seconds: { type: 'string', default: '5' },
      senders: { type: 'string', default: '3000' },
      tenants: { type: 'string', default: '4' },
      // Providers post concurrently, each delivery on its own request: the cap only bounds the client's sockets.
      connections: { type: 'string', default: '512' },
      port: { type: 'string', default: '18092' },
      kill: { type: 'boolean', default: false },
    },
  });
  const o = {
    // Counting what was stored reads the database beside the running server: PostgreSQL only.
    engine: 'postgres',
    rates: values.rates.split(',').map(Number),
    seconds: Number(values.seconds),
    senders: Number(values.senders),
    tenants: Number(values.tenants),
    connections: Number(values.connections),
    port: Number(values.port),
    kill: values.kill,
  } as const;
  console.log(`ingest bench: ${JSON.stringify(o)}`);

  const base = `http://127.0.0.1:${o.port}`;
  const server = await startBenchServer({ engine: o.engine, port: o.port, pgPort: 25472, tenants: o.tenants, tenantPrefix: 'ingest', env: { PARLEY_PUBLIC_URL: base, PARLEY_PRIVATE_TARGETS: '127.0.0.1' } });
  try {
    // Provider by provider, tenant by tenant: consecutive deliveries go to different tenants' inboxes.
    const perTenant = await Promise.all(server.apiKeys.map((_, t) => connectInboxes(server, t)));
    const providers = perTenant[0]!.flatMap((_, p) => perTenant.map((tenant) => tenant[p]!));
    const client = new RawHttpClient('127.0.0.1', o.port, o.connections);
    const sent: Delivery[] = [];
    const acknowledged = new Set<string>();
    const steps = [];
    let n = 0;
    for (const [s, rate] of o.rates.entries()) {
      const killAt = o.kill && s === o.rates.length - 1 ? (rate * o.seconds) / 2 : null;
      const step = await runStep(rate, o.seconds, () => {
        // One in ten is a provider sending an earlier delivery again.
        if (sent.length > 0 && n % 10 === 9) return sent[Math.floor(Math.random() * sent.length)]!;
        const sender = `+52155${String(10_000_000 + (n % o.senders)).slice(-8)}`;
        const delivery = providers[n % providers.length]!(n, sender);
        sent.push(delivery);
        return delivery;
      }, (d) => client.send(d.bytes).then((r) => r.status), acknowledged, killAt === null ? null : { after: killAt, restart: () => server.restart('SIGKILL') }, () => n++);
      steps.push(step);
      console.log(
        `${rate}/s offered: ${step.answeredPerSec}/s answered (steady ${step.steadyPerSec}/s), p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms, ${step.errors} errors${step.retried ? `, ${step.retried} retried after the kill` : ''}`,
      );
    }
    client.destroy();

    const stored = await countStored(server);
    const distinctSent = new Set(sent.map((d) => d.id));
    const lost = [...acknowledged].filter((id) => !stored.ids.has(id)).length;
    const sustained = steps.filter((s) => s.errors === 0 && s.steadyPerSec >= 0.98 * s.rate).map((s) => Math.min(s.steadyPerSec, s.rate));
    const raw = await rawInsertBaseline(o.engine, server.databaseUrl, server.dataDir, Math.min(20_000, distinctSent.size), Math.min(o.connections, 64));
    const result = {
      bench: 'ingest',
      engine: o.engine,
      tenants: o.tenants,
      providers: providers.length / o.tenants,
      steps,
      sustainedPerSec: sustained.length ? Math.max(...sustained) : 0,
      deliveriesSent: steps.reduce((a, s) => a + s.sent, 0),
      distinctMessages: distinctSent.size,
      acknowledged: acknowledged.size,
      messagesStored: stored.messages,
      duplicatesStored: stored.messages - stored.ids.size,
      lostAfterAck: lost,
      conversations: stored.conversations,
      conversationsRouted: stored.routed,
      killed: o.kill,
      rawInsertsPerSec: round(raw),
      ratioToRawInsert: 0,
    };
    result.ratioToRawInsert = round(result.sustainedPerSec / raw, 3);
    console.log(
      `sustained ${result.sustainedPerSec} webhooks/s stored and routed; ${result.messagesStored} stored for ${result.distinctMessages} distinct messages (${result.acknowledged} acknowledged): ${result.duplicatesStored} duplicates, ${result.lostAfterAck} lost; ${result.conversationsRouted}/${result.conversations} conversations in the queue; raw inserts ${result.rawInsertsPerSec}/s (ratio ${result.ratioToRawInsert})`,
    );
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await server.stop();
  }
}

/** One rate: open loop, each delivery retried (as providers do) until it gets a 2xx. */
async function runStep(
  rate: number,
  seconds: number,
  next: () => Delivery,
  post: (d: Delivery) => Promise<number>,
  acknowledged: Set<string>,
  kill: { after: number; restart: () => Promise<void> } | null,
  count: () => void,
) {
  const total = Math.round(rate * seconds);
  const latencies: number[] = [];
  // When each first answer came, from the step's start: the steady window counts those between its second second and its last send.
  const answeredAt: number[] = [];
  let errors = 0;
  let retried = 0;
  let restarting: Promise<void> | null = null;
  const deliver = async (d: Delivery, attempt = 0): Promise<void> => {
    if (restarting) await restarting;
    const started = performance.now();
    const status = await post(d).catch(() => 0);
    if (status >= 200 && status < 300) {
      const now = performance.now();
      if (attempt === 0) latencies.push(now - started);
      answeredAt.push(now - start);
      acknowledged.add(d.id);
      return;
    }
    if (!kill) errors++;
    if (attempt >= 50) {
      errors++;
      return;
    }
    retried++;
    await new Promise((r) => setTimeout(r, 100 * Math.min(attempt + 1, 10)));
    return deliver(d, attempt + 1);
  };
  // Built (and signed) before the clock starts: the sender's own work would take the server's CPU.
  const deliveries = Array.from({ length: total }, () => {
    const d = next();
    count();
    return d;
  });
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (kill && i === Math.floor(kill.after)) restarting = kill.restart().finally(() => (restarting = null));
    inflight.push(deliver(deliveries[i]!));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const from = seconds >= 2 ? 1 : 0;
  const steady = answeredAt.filter((t) => t >= from * 1000 && t <= seconds * 1000).length / (seconds - from);
  return { rate, sent: total, answeredPerSec: round(total / elapsed), steadyPerSec: round(steady), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)), errors, retried };
}

/** Tenant `t`'s six inboxes (numbers and accounts of their own), and a delivery maker for each. */
async function connectInboxes(server: BenchServer, t: number): Promise<Provider[]> {
  const create = async (channelType: string, settings: Record<string, unknown>) => {
    const res = await fetch(`${server.base}/api/v1/inboxes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.apiKeys[t]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: channelType, channelType, settings }),
    });
    const body = (await res.json()) as { publicId: string };
    if (res.status !== 201) throw new Error(`creating a ${channelType} inbox: ${res.status} ${JSON.stringify(body)}`);
    return body.publicId;
  };
  const sms = (publicId: string) => `/api/v1/channels/sms/${publicId}/webhook`;
  const meta = (publicId: string) => `/api/v1/channels/meta/${publicId}/webhook`;
  const text = (n: number) => `${TEXTS[n % TEXTS.length]} #${n}`;
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const json = { 'content-type': 'application/json' };
  const metaSigned = (secret: string, body: string) => ({ ...json, 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` });

  const numbers = { twilio: `+1500555000${t}`, sinch: `+521554444000${t}`, vonage: `+551195555000${t}` };
  const accounts = { whatsapp: `55500011${t}`, page: `90080070${t}`, instagram: `1784140000000${t}` };
  const twilio = await create('sms', { sms: { number: numbers.twilio, provider: 'twilio', twilio: { accountSid: `AC${'1'.repeat(32)}`, authToken: 'bench-twilio-token', baseUrl: DEAD_URL } } });
  const sinch = await create('sms', { sms: { number: numbers.sinch, provider: 'sinch', sinch: { servicePlanId: 'benchplan', apiToken: 'bench-sinch', callbackSecret: 'bench-sinch-callback', baseUrl: DEAD_URL } } });
  const vonage = await create('sms', { sms: { number: numbers.vonage, provider: 'vonage', vonage: { apiKey: 'benchkey', apiSecret: 'bench-vonage', signatureSecret: 'bench-vonage-signature', signatureMethod: 'sha256', baseUrl: DEAD_URL } } });
  const metaSettings = (accountId: string) => ({ meta: { accountId, appSecret: `bench-secret-${accountId}`, accessToken: 'bench-token', verifyToken: 'bench-verify', graphBaseUrl: DEAD_URL, apiVersion: 'v21.0' } });
  const wa = await create('whatsapp', metaSettings(accounts.whatsapp));
  const fb = await create('messenger', metaSettings(accounts.page));
  const ig = await create('instagram', metaSettings(accounts.instagram));

  const webhooks: ((n: number, sender: string) => Webhook)[] = [
    (n, sender) => {
      const fields = { MessageSid: `SM${String(n).padStart(32, '0')}`, AccountSid: `AC${'1'.repeat(32)}`, From: sender, To: numbers.twilio, Body: text(n), NumMedia: '0' };
      return { id: fields.MessageSid, method: 'POST', path: sms(twilio), body: new URLSearchParams(fields).toString(), headers: { ...form, 'x-twilio-signature': signLikeTwilio('bench-twilio-token', `${server.base}${sms(twilio)}`, fields) } };
    },
    (n, sender) => {
      const id = `01BENCH${String(n).padStart(19, '0')}`;
      const body = JSON.stringify({ type: 'mo_text', id, from: sender.slice(1), to: numbers.sinch.slice(1), body: text(n), received_at: new Date().toISOString() });
      return { id, method: 'POST', path: sms(sinch), body, headers: { ...json, authorization: 'Bearer bench-sinch-callback' } };
    },
    (n, sender) => {
      const params = { msisdn: sender.slice(1), to: numbers.vonage.slice(1), messageId: `BENCH${String(n).padStart(11, '0')}`, text: text(n), type: 'unicode', 'message-timestamp': '2026-11-22 15:00:00', timestamp: String(Math.floor(Date.now() / 1000)), nonce: `n${n}` };
      const signed = { ...params, sig: signLikeVonage(params, 'bench-vonage-signature', 'sha256') };
      return { id: params.messageId, method: 'GET', path: `${sms(vonage)}?${new URLSearchParams(signed)}`, body: '', headers: {} };
    },
    (n, sender) => {
      const id = `wamid.BENCH${n}`;
      const body = JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [{ id: 'waba', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '15550001111', phone_number_id: accounts.whatsapp }, contacts: [{ profile: { name: `Cliente ${sender.slice(-4)}` }, wa_id: sender.slice(1) }], messages: [{ from: sender.slice(1), id, timestamp: String(Math.floor(Date.now() / 1000)), type: 'text', text: { body: text(n) } }] } }] }],
      });
      return { id, method: 'POST', path: meta(wa), body, headers: metaSigned(`bench-secret-${accounts.whatsapp}`, body) };
    },
    ...(['page', 'instagram'] as const).map(
      (object) =>
        (n: number, sender: string): Webhook => {
          const account = accounts[object];
          const id = `m_BENCH${object}${n}`;
          const body = JSON.stringify({ object, entry: [{ id: account, time: Date.now(), messaging: [{ sender: { id: `ps${sender.slice(1)}` }, recipient: { id: account }, timestamp: Date.now(), message: { mid: id, text: text(n) } }] }] });
          return { id, method: 'POST', path: meta(object === 'page' ? fb : ig), body, headers: metaSigned(`bench-secret-${account}`, body) };
        },
    ),
  ];
  const host = new URL(server.base).host;
  return webhooks.map((make) => (n, sender) => {
    const w = make(n, sender);
    return { id: w.id, bytes: encodeRequest(host, w.method, w.path, w.headers, w.body) };
  });
}

/** Inbound customer messages stored in the bench tenants (by provider id), and how their conversations stand in routing. */
async function countStored(server: BenchServer) {
  const { db, close } = await openDatabase({ databaseUrl: server.databaseUrl });
  try {
    const rows = await db.selectFrom('messages').select('source_id').where('direction', '=', 'in').where('sender_type', '=', 'contact').where('source_id', 'is not', null).execute();
    // Source ids end with the provider's id (`<channel>:<inbox>:…:<provider id>`); the bench's ids hold no colon.
    const ids = new Set(rows.map((r) => r.source_id!.slice(r.source_id!.lastIndexOf(':') + 1)));
    const conversations = await db.selectFrom('conversations').select(['routing_state']).execute();
    return { messages: rows.length, ids, conversations: conversations.length, routed: conversations.filter((c) => c.routing_state !== null).length };
  } finally {
    await close();
  }
}
