import { Type } from 'typebox';
import { sql } from 'kysely';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Deps } from '../deps.ts';
import type { App } from '../http.ts';

const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'parley_' });

export const metrics = {
  httpRequests: new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  }),
  httpErrors: new Counter({ name: 'parley_http_errors_total', help: 'Error answers by code', labelNames: ['code'], registers: [registry] }),
  wsConnections: new Gauge({ name: 'parley_websocket_connections', help: 'Open realtime sockets', labelNames: ['kind'], registers: [registry] }),
  wsViolations: new Counter({ name: 'parley_websocket_violations_total', help: 'Sockets closed for protocol violations', registers: [registry] }),
};

export function opsRoutes(app: App, deps: Deps) {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpRequests.observe({ method: request.method, route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  app.get(
    '/healthz',
    {
      config: { public: true },
      schema: { tags: ['ops'], response: { 200: Type.Object({ status: Type.String(), database: Type.String() }), 503: Type.Object({ status: Type.String(), database: Type.String() }) } },
    },
    async (_request, reply) => {
      try {
        await sql`SELECT 1`.execute(deps.db);
        return { status: 'ok', database: deps.engine };
      } catch {
        return reply.status(503).send({ status: 'unavailable', database: deps.engine });
      }
    },
  );

  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
