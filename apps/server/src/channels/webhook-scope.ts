import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { App } from '../http.ts';

/**
 * Providers sign the exact bytes they send (Meta: HMAC of the raw body; Twilio: the form
 * parameters as posted), so provider callbacks are read in a scope whose body parsers keep
 * the raw body and leave the reading to the channel. Register provider routes inside
 * `app.register(webhookScope(routes))`; every route in it is public (the provider's
 * signature or token authenticates it).
 */
export function webhookScope(routes: (scope: App) => void) {
  return async (instance: FastifyInstance) => {
    instance.removeAllContentTypeParsers();
    instance.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    instance.addHook('onRoute', (route) => {
      // signedByProvider: the request is read as sent (no normalizing of its text, which would break the signature).
      route.config = { ...(route.config as object), public: true, signedByProvider: true } as typeof route.config;
    });
    routes(instance as unknown as App);
  };
}

/** The raw body of a request in a webhook scope (empty for a GET). */
export function rawBodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

/** The URL the provider called, as it saw it: the public base URL when configured (behind a proxy), else this request's. */
export function publicUrlOf(request: FastifyRequest, publicBase: string | undefined): string {
  const base = publicBase ?? `${request.protocol}://${request.host}`;
  return `${base.replace(/\/$/, '')}${request.url}`;
}
