import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Deps } from '../deps.ts';
import type { App } from '../http.ts';
import { ParleyError } from '../errors.ts';
import { principalFromApiKey } from '../auth/api-keys.ts';
import { principalFromSession, SESSION_COOKIE } from '../auth/sessions.ts';
import type { Principal } from '../auth/principal.ts';
import { getInboxByPublicIdOrThrow, originAllowed } from '../inboxes/inboxes.repository.ts';
import { verifyVisitorToken, type VisitorClaims } from '../widget/visitor-token.ts';
import { sendVisitorMessage, toVisitorMessage } from '../widget/widget.routes.ts';
import { markConversationRead } from '../conversations/update-conversation.ts';
import { visitorView } from '../conversations/conversation-dto.ts';
import { MAX_MESSAGE_LENGTH } from '../conversations/post-message.ts';
import { RealtimeConnection } from './connection.ts';
import type { RealtimeEvent } from './event-log.ts';
import type { Ephemeral } from './hub.ts';
import { metrics } from '../ops/ops.routes.ts';

const MAX_FRAME_BYTES = 64 * 1024;
const HELLO_TIMEOUT_MS = 10_000;
const HEARTBEAT_MS = 30_000;
/** Token bucket per socket: 20 frames a second, bursts of 40; beyond that the socket is closed. */
const RATE = { perSecond: 20, burst: 40 };

const Hello = Type.Object({ type: Type.Literal('hello'), lastSeq: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]), token: Type.Optional(Type.String({ maxLength: 2000 })) });
const Ping = Type.Object({ type: Type.Literal('ping') });
const Typing = Type.Object({ type: Type.Literal('typing'), on: Type.Boolean(), conversationId: Type.Optional(Type.String({ maxLength: 100 })) });
const Read = Type.Object({ type: Type.Literal('read') });
const VisitorMessage = Type.Object({
  type: Type.Literal('message'),
  clientMessageId: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:-]+$' }),
  content: Type.String({ maxLength: MAX_MESSAGE_LENGTH }),
  attachmentIds: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 10 })),
});
const AgentFrame = Compile(Type.Union([Hello, Ping, Typing]));
const VisitorFrame = Compile(Type.Union([Hello, Ping, Typing, Read, VisitorMessage]));

type Reject = { status: number; message: string };

/**
 * Realtime over WebSocket: `/api/v1/realtime` for agents (session cookie or API key, same
 * origin only) and `/api/v1/widget/realtime?inbox=…` for visitors (origin checked against the
 * inbox's allowed domains, token in the first frame).
 */
export function attachRealtime(app: App, deps: Deps) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://parley');
    const accept = (onSocket: (ws: WebSocket) => void) => wss.handleUpgrade(request, socket, head, onSocket);
    const refuse = (r: Reject) => {
      deps.log.info({ path: url.pathname, status: r.status, reason: r.message }, 'websocket refused');
      socket.end(`HTTP/1.1 ${r.status} ${r.status === 403 ? 'Forbidden' : r.status === 404 ? 'Not Found' : 'Unauthorized'}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${r.message}`);
    };
    const handle = async () => {
      if (url.pathname === '/api/v1/realtime') {
        const principal = await agentPrincipal(deps, request);
        accept((ws) => serveAgent(deps, ws, principal));
      } else if (url.pathname === '/api/v1/widget/realtime') {
        const inbox = await getInboxByPublicIdOrThrow(deps.db, url.searchParams.get('inbox') ?? '');
        if (!originAllowed(inbox.settings, request.headers.origin)) throw new ParleyError('PARLEY_ERR_ORIGIN_NOT_ALLOWED', 'origin not allowed for this inbox');
        accept((ws) => serveVisitor(deps, ws, inbox.id));
      } else {
        throw new ParleyError('PARLEY_ERR_NOT_FOUND', 'no websocket here');
      }
    };
    handle().catch((err: unknown) => {
      if (err instanceof ParleyError) refuse({ status: err.statusCode, message: err.message });
      else {
        deps.log.error({ err }, 'websocket upgrade failed');
        refuse({ status: 500, message: 'internal error' });
      }
    });
  });

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      const alive = ws as WebSocket & { alive?: boolean };
      if (alive.alive === false) ws.terminate();
      else {
        alive.alive = false;
        ws.ping();
      }
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();
  wss.on('connection', (ws) => {
    const alive = ws as WebSocket & { alive?: boolean };
    alive.alive = true;
    ws.on('pong', () => (alive.alive = true));
  });

  return {
    close() {
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.close(1001, 'server shutting down');
      wss.close();
    },
  };
}

async function agentPrincipal(deps: Deps, request: IncomingMessage): Promise<Principal> {
  const auth = request.headers.authorization;
  if (auth?.startsWith('Bearer ')) return principalFromApiKey(deps.db, auth.slice(7));
  // A cookie goes with any page's request: only pages of Parley's own origin may use it here.
  const origin = request.headers.origin;
  if (origin) {
    const host = request.headers['x-forwarded-host'] ?? request.headers.host;
    const allowed = deps.config.publicUrl ? new URL(deps.config.publicUrl).host : host;
    if (new URL(origin).host !== allowed) throw new ParleyError('PARLEY_ERR_ORIGIN_NOT_ALLOWED', 'cross-origin agent socket refused');
  }
  const token = parseCookie(request.headers.cookie ?? '')[SESSION_COOKIE];
  if (!token) throw new ParleyError('PARLEY_ERR_UNAUTHENTICATED', 'not logged in');
  return principalFromSession(deps.db, token);
}

/** Frame handling shared by agents and visitors: size, rate, JSON, schema, hello first. */
function frames<T>(
  deps: Deps,
  ws: WebSocket,
  schema: { Check(v: unknown): v is T },
  onFrame: (frame: T) => Promise<void> | void,
): { helloReceived: () => void; violation: (code: number, reason: string) => void } {
  let tokens = RATE.burst;
  let last = Date.now();
  const violation = (code: number, reason: string) => {
    deps.log.info({ reason }, 'websocket closed for a protocol violation');
    metrics.wsViolations.inc();
    ws.close(code, reason);
  };
  ws.on('message', (raw: RawData, isBinary) => {
    const now = Date.now();
    tokens = Math.min(RATE.burst, tokens + ((now - last) / 1000) * RATE.perSecond);
    last = now;
    if (--tokens < 0) return violation(1008, 'rate limit exceeded');
    if (isBinary) return violation(1003, 'binary frames are not accepted');
    let frame: unknown;
    try {
      frame = JSON.parse(raw.toString());
    } catch {
      return violation(1007, 'frame is not JSON');
    }
    if (!schema.Check(frame)) return violation(1008, 'unknown or malformed frame');
    Promise.resolve(onFrame(frame)).catch((err: unknown) => {
      if (err instanceof ParleyError) ws.send(JSON.stringify({ type: 'error', code: err.code, message: err.message }));
      else {
        deps.log.error({ err }, 'websocket frame failed');
        ws.send(JSON.stringify({ type: 'error', code: 'PARLEY_ERR_INTERNAL', message: 'internal error' }));
      }
    });
  });
  ws.on('error', (err) => deps.log.debug({ err }, 'websocket error'));
  const helloTimer = setTimeout(() => violation(1008, 'no hello received'), HELLO_TIMEOUT_MS);
  return { helloReceived: () => clearTimeout(helloTimer), violation };
}

function serveAgent(deps: Deps, ws: WebSocket, principal: Principal) {
  metrics.wsConnections.inc({ kind: 'agent' });
  let connection: RealtimeConnection | null = null;
  const userId = principal.userId;
  const { helloReceived, violation } = frames(deps, ws, AgentFrame, async (frame): Promise<void> => {
    if (frame.type === 'hello') {
      if (connection) return violation(1008, 'hello sent twice');
      helloReceived();
      const scope = { tenantId: principal.tenantId, seesEverything: true, hides: principal.role === 'agent' ? othersOffer(userId) : undefined, view: (e: RealtimeEvent) => e.payload, viewEphemeral: (e: Ephemeral) => e };
      connection = new RealtimeConnection(ws, scope, deps.hub, deps.db);
      await connection.start(frame.lastSeq);
      if (userId) {
        // Counted by the hub first: routing reads the node's count when its transaction runs (and tells agents who is online).
        deps.hub.agentConnected(principal.tenantId, userId);
        deps.routing.background('agent connected', deps.routing.agentConnectionsChanged(principal.tenantId, userId));
      }
      return;
    }
    if (!connection) return violation(1008, 'send hello first');
    if (frame.type === 'ping') return connection.send({ type: 'pong' });
    if (frame.type === 'typing' && frame.conversationId) {
      deps.hub.ephemeral(principal.tenantId, { type: 'typing', conversationId: frame.conversationId, data: { conversationId: frame.conversationId, who: 'agent', userId, on: frame.on } }, connection);
    }
  });
  ws.on('close', () => {
    metrics.wsConnections.dec({ kind: 'agent' });
    if (!connection) return;
    connection.close();
    if (!userId) return;
    deps.hub.agentDisconnected(principal.tenantId, userId);
    deps.routing.background('agent disconnected', deps.routing.agentConnectionsChanged(principal.tenantId, userId));
  });
}

function serveVisitor(deps: Deps, ws: WebSocket, inboxId: string) {
  metrics.wsConnections.inc({ kind: 'visitor' });
  let connection: RealtimeConnection | null = null;
  let visitor: VisitorClaims | null = null;
  const { helloReceived, violation } = frames(deps, ws, VisitorFrame, async (frame): Promise<void> => {
    if (frame.type === 'hello') {
      if (connection) return violation(1008, 'hello sent twice');
      let claims: VisitorClaims;
      try {
        claims = verifyVisitorToken(deps.secret, frame.token);
      } catch {
        return violation(4401, 'invalid visitor token');
      }
      if (claims.inboxId !== inboxId) return violation(4403, 'token of another inbox');
      helloReceived();
      visitor = claims;
      const conversationId = claims.conversationId;
      connection = new RealtimeConnection(
        ws,
        {
          tenantId: claims.tenantId,
          visitorConversationId: conversationId,
          view: (e) => visitorView(e.type, e.payload),
          viewEphemeral: (e) => (e.conversationId === conversationId && !e.agentsOnly && e.data.who === 'agent' ? { type: e.type, data: { who: 'agent', on: e.data.on } } : null),
        },
        deps.hub,
        deps.db,
      );
      await connection.start(frame.lastSeq);
      return;
    }
    if (!connection || !visitor) return violation(1008, 'send hello first');
    switch (frame.type) {
      case 'ping':
        return connection.send({ type: 'pong' });
      case 'typing':
        return deps.hub.ephemeral(visitor.tenantId, { type: 'typing', conversationId: visitor.conversationId, agentsOnly: true, data: { conversationId: visitor.conversationId, who: 'contact', on: frame.on } });
      case 'read':
        return markConversationRead(deps, visitor.tenantId, visitor.conversationId, 'contact');
      case 'message': {
        const { message } = await sendVisitorMessage(deps, visitor, frame);
        return connection.send({ type: 'ack', clientMessageId: frame.clientMessageId, message: toVisitorMessage(message) });
      }
    }
  });
  ws.on('close', () => {
    metrics.wsConnections.dec({ kind: 'visitor' });
    connection?.close();
  });
}

/** An agent gets only their own offers; supervisors and admins see everyone's (wallboard, force-assign). */
function othersOffer(userId: string | null) {
  return (e: RealtimeEvent) => (e.type === 'routing.offer' || e.type === 'routing.offer_closed') && (e.payload as { offer?: { agentId?: string } }).offer?.agentId !== userId;
}

function parseCookie(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}
