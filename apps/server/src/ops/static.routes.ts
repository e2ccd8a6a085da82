import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { App } from '../http.ts';

const appsDir = fileURLToPath(new URL('../../../', import.meta.url));
const agentWebDist = `${appsDir}agent-web/dist`;
const widgetBundle = `${appsDir}widget/dist/widget.js`;

/** The built browser apps: the agent workspace at /app/ and the widget at /widget.js. */
export async function staticRoutes(app: App) {
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/'));

  app.get('/widget.js', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    if (!existsSync(widgetBundle)) return reply.status(503).type('text/plain').send('widget not built: run npm run build');
    return reply
      .header('content-type', 'application/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=300')
      .header('access-control-allow-origin', '*')
      .send(await readFile(widgetBundle));
  });

  if (existsSync(agentWebDist)) {
    await app.register(fastifyStatic, { root: agentWebDist, prefix: '/app/', index: 'index.html', wildcard: true });
  } else {
    app.get('/app/*', { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
      reply.status(503).type('text/plain').send('agent app not built: run npm run build'),
    );
  }
}
