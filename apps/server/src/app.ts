import Fastify, { type FastifyError } from 'fastify';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import pino, { type Logger } from 'pino';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { configFromEnv, randomSecret, type Config } from './config.ts';
import { openDatabase, type OpenedDatabase } from './db/database.ts';
import { ParleyError } from './errors.ts';
import { ErrorBody, type App } from './http.ts';
import type { Deps } from './deps.ts';
import { RealtimeHub } from './realtime/hub.ts';
import { GroupCommitter } from './realtime/transact.ts';
import { authenticate } from './auth/authenticate.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { userRoutes } from './users/users.routes.ts';
import { inboxRoutes } from './inboxes/inboxes.routes.ts';
import { contactRoutes } from './contacts/contacts.routes.ts';
import { conversationRoutes } from './conversations/conversations.routes.ts';
import { cannedReplyRoutes } from './canned-replies/canned-replies.routes.ts';
import { webhookRoutes } from './webhooks/webhooks.routes.ts';
import { attachmentRoutes } from './attachments/attachments.routes.ts';
import { widgetRoutes } from './widget/widget.routes.ts';
import { opsRoutes, metrics } from './ops/ops.routes.ts';
import { staticRoutes } from './ops/static.routes.ts';
import { attachRealtime } from './realtime/sockets.ts';
import { AttachmentStorage } from './attachments/attachment-storage.ts';
import { JobWorker } from './jobs/job-queue.ts';
import { deliverWebhookJob } from './webhooks/deliver-webhook.ts';
import { WEBHOOK_ATTEMPTS, WEBHOOK_JOB } from './webhooks/webhook-outbox.ts';
import { pruneEvents } from './realtime/event-log.ts';
import { joinOtherNodes } from './realtime/across-nodes.ts';
import { RoutingService, type RoutingOptions } from './routing/routing.service.ts';
import { routingRoutes } from './routing/routing.routes.ts';
import { CLOSING_MESSAGE_JOB, closingMessageJob } from './routing/closing-message.ts';
import { isRoutingError, routingErrorHttpStatus } from '@parley/routing';
import { CHANNEL_SEND_JOB, sendOutboundJob } from './channels/outbound.ts';
import { channelMessageRoutes } from './channels/channel-messages.routes.ts';
import { channelAdminRoutes } from './channels/channel-admin.routes.ts';
import { complianceRoutes } from './compliance/compliance.routes.ts';
import { webhookScope } from './channels/webhook-scope.ts';
import { smsRoutes } from './channels/sms/sms.routes.ts';
import { emailRoutes } from './channels/email/email.routes.ts';
import { FLUSH_PARTS_JOB, flushPartsJob } from './channels/sms/long-sms.ts';
import { EmailChannel } from './channels/email/email-channel.ts';
import { SmppChannel } from './channels/sms/smpp/smpp-channel.ts';
import { metaRoutes } from './channels/meta/meta.routes.ts';
import { storableStrings } from './conversations/storable-text.ts';

export interface Parley {
  app: App;
  deps: Deps;
  worker: JobWorker;
  /** The SMTP listener and IMAP poller of email inboxes (started by listen()). */
  email: EmailChannel;
  /** The SMPP binds of SMS inboxes whose provider is 'smpp' (started by listen()). */
  smpp: SmppChannel;
  /** Listens on config.port (0 = any free port) and returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface BuildOptions {
  config?: Partial<Config>;
  logger?: Logger;
  /** An already opened database (tests bring a fresh one each); else one is opened from config. */
  database?: OpenedDatabase;
  /** Job worker options (tests shorten the retry backoff). */
  jobs?: ConstructorParameters<typeof JobWorker>[2];
  /** Routing timers (tests shorten the disconnect grace). */
  routing?: RoutingOptions;
}

export async function buildParley(options: BuildOptions = {}): Promise<Parley> {
  const config: Config = { ...configFromEnv(), ...options.config };
  const log = options.logger ?? pino({ level: config.logLevel });
  await mkdir(config.dataDir, { recursive: true });
  const opened =
    options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.databaseUrl ? undefined : join(config.dataDir, 'pg'), prepare: config.pgPrepare, pipeline: config.pgPipeline, genericPlans: config.pgGenericPlans, poolSize: config.pgPoolSize }));
  const secret = config.secret ?? (await loadOrCreateSecret(config.dataDir));
  const hub = new RealtimeHub(opened.db, log);
  // On a PostgreSQL server other nodes may serve the same tenants: each commit is announced to
  // them, and this node hears theirs (docs/decisions/0006-events-across-nodes.md).
  const nodeId = randomUUID();
  const committer = new GroupCommitter(opened.db, hub, log, { announceAs: opened.url ? nodeId : undefined, genericPlans: opened.genericPlans });
  const otherNodes = opened.url ? joinOtherNodes(opened.url, opened.db, hub, nodeId, log) : null;
  const deps: Deps = {
    db: opened.db,
    engine: opened.engine,
    hub,
    committer,
    routing: new RoutingService({ db: opened.db, committer, log, hub }, { nodeId, ...options.routing }),
    config,
    log,
    storage: new AttachmentStorage(join(config.dataDir, 'attachments')),
    secret,
    nodeId,
  };

  const app = Fastify({
    loggerInstance: log,
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    trustProxy: config.trustProxy,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as App;

  app.addSchema(ErrorBody);
  app.decorateRequest('principal', null);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.setErrorHandler((error: FastifyError | ParleyError, request, reply) => {
    const { status, code, message, details } = describeError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code, message }, 'request rejected');
    metrics.httpErrors.inc({ code });
    // A refusal that names when to come back (rate limits) says so in the standard header too.
    const retryAfter = (details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    return reply.status(status).send({ error: { code, message, ...(details === undefined ? {} : { details }) } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'PARLEY_ERR_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
  );

  await app.register(cookie);
  await app.register(multipart, { limits: { fileSize: config.maxAttachmentBytes, files: 1, fields: 10 } });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Parley API', version: '1.0.0', description: 'REST API of Parley, the open contact center.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key created by an admin' },
          session: { type: 'apiKey', in: 'cookie', name: 'parley_session' },
        },
      },
      security: [{ apiKey: [] }, { session: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });
  app.addHook('onRequest', authenticate(deps));
  // Text PostgreSQL cannot hold (NUL, half a surrogate pair) is made storable before any route sees it, instead of failing as a 500.
  app.addHook('preValidation', async (request) => {
    if ((request.routeOptions.config as { signedByProvider?: boolean }).signedByProvider) return; // the ingest path normalizes what it stores
    request.body = storableStrings(request.body);
    request.query = storableStrings(request.query);
    request.params = storableStrings(request.params);
  });

  await app.register(async (api) => {
    const scoped = api as unknown as App;
    authRoutes(scoped, deps);
    userRoutes(scoped, deps);
    inboxRoutes(scoped, deps);
    contactRoutes(scoped, deps);
    conversationRoutes(scoped, deps);
    cannedReplyRoutes(scoped, deps);
    webhookRoutes(scoped, deps);
    attachmentRoutes(scoped, deps);
    widgetRoutes(scoped, deps);
    routingRoutes(scoped, deps);
    channelMessageRoutes(scoped, deps);
    channelAdminRoutes(scoped, deps);
    emailRoutes(scoped, deps);
    complianceRoutes(scoped, deps);
  }, { prefix: '/api/v1' });
  await app.register(webhookScope((scope) => smsRoutes(scope, deps)), { prefix: '/api/v1' });
  await app.register(metaRoutes(deps), { prefix: '/api/v1' });
  opsRoutes(app, deps);
  app.get('/api/openapi.json', { schema: { hide: true }, config: { public: true } }, async () => app.swagger());
  await staticRoutes(app);

  const realtime = attachRealtime(app, deps);
  const worker = new JobWorker(opened.db, log, options.jobs);
  worker.register(WEBHOOK_JOB, deliverWebhookJob(opened.db, config.privateTargets), { maxAttempts: WEBHOOK_ATTEMPTS });
  worker.register(CHANNEL_SEND_JOB, sendOutboundJob(deps));
  worker.register(CLOSING_MESSAGE_JOB, closingMessageJob(deps));
  worker.register(FLUSH_PARTS_JOB, flushPartsJob(deps));
  const email = new EmailChannel(deps);
  const smpp = new SmppChannel(deps);
  const pruneTimer = setInterval(() => {
    pruneEvents(opened.db, new Date(Date.now() - 24 * 3_600_000)).catch((err) => log.error({ err }, 'event prune failed'));
  }, 3_600_000);
  pruneTimer.unref();

  return {
    app,
    deps,
    worker,
    email,
    smpp,
    async listen() {
      await app.ready();
      if (config.workers) worker.start();
      deps.routing.start();
      await email.start();
      await smpp.start();
      const address = await app.listen({ port: config.port, host: config.host });
      return address.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
    },
    async close() {
      clearInterval(pruneTimer);
      await email.stop();
      await smpp.stop();
      await worker.stop();
      realtime.close();
      await app.close();
      await deps.routing.close();
      await otherNodes?.close();
      await opened.close();
    },
  };
}

function describeError(error: FastifyError | ParleyError | Error): { status: number; code: string; message: string; details?: unknown } {
  if (error instanceof ParleyError) return { status: error.statusCode, code: error.code, message: error.message, details: error.details };
  if (isRoutingError(error)) return { status: routingErrorHttpStatus[error.code], code: error.code, message: error.message, details: error.context };
  const fe = error as FastifyError;
  if (fe.validation) {
    return { status: 400, code: 'PARLEY_ERR_VALIDATION', message: fe.message, details: fe.validation.map((v) => ({ path: v.instancePath, message: v.message })) };
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, code: 'PARLEY_ERR_MALFORMED_JSON', message: 'the body is not valid JSON' };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
    case 'FST_REQ_FILE_TOO_LARGE':
      return { status: 413, code: 'PARLEY_ERR_PAYLOAD_TOO_LARGE', message: fe.message };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'PARLEY_ERR_UNSUPPORTED_MEDIA_TYPE', message: fe.message };
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, code: 'PARLEY_ERR_BAD_REQUEST', message: fe.message };
  }
  return { status: 500, code: 'PARLEY_ERR_INTERNAL', message: 'internal error' };
}

async function loadOrCreateSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, 'secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomSecret();
    await writeFile(file, secret, { mode: 0o600, flag: 'wx' }).catch(() => undefined);
    return (await readFile(file, 'utf8')).trim();
  }
}
