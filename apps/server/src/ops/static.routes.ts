import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { App } from '../http.ts';

const appsDir = fileURLToPath(new URL('../../../', import.meta.url));
const agentWebDist = `${appsDir}agent-web/dist`;
const widgetBundle = `${appsDir}widget/dist/widget.js`;

/**
 * The agent app runs only its own scripts, is framed by nobody and talks only to this server: an
 * injected script or a hostile page framing it gets nowhere. Images may come from anywhere, for
 * an email's remote images once the agent asks for them: the email's frame (srcdoc, so it inherits
 * this policy too) carries its own stricter one until then.
 */
const AGENT_APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  'img-src * data: blob:',
  "media-src 'self' blob:",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

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
    await app.register(fastifyStatic, {
      root: agentWebDist,
      prefix: '/app/',
      index: 'index.html',
      wildcard: true,
      setHeaders: (reply) => {
        reply.header('content-security-policy', AGENT_APP_CSP);
        reply.header('x-content-type-options', 'nosniff');
        reply.header('x-frame-options', 'DENY');
        reply.header('referrer-policy', 'same-origin');
      },
    });
  } else {
    app.get('/app/*', { config: { public: true }, schema: { hide: true } }, async (_request, reply) =>
      reply.status(503).type('text/plain').send('agent app not built: run npm run build'),
    );
  }
}
