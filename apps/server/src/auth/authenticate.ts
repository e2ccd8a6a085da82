import type { FastifyRequest } from 'fastify';
import type { Deps } from '../deps.ts';
import { ParleyError } from '../errors.ts';
import { safeEqual } from '../ids.ts';
import { principalFromApiKey } from './api-keys.ts';
import { principalFromSession, SESSION_COOKIE } from './sessions.ts';
import type { Principal } from './principal.ts';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Resolves who calls every non-public /api route: an API key (`Authorization: Bearer pk_…`) or
 * a session cookie. Cookie requests that change anything must echo the session's CSRF token
 * in `x-csrf-token`; API keys are not sent by browsers on their own, so they need none.
 */
export function authenticate(deps: Deps) {
  return async (request: FastifyRequest) => {
    if (!request.url.startsWith('/api/v1/') || request.routeOptions.config?.public) return;
    if (!request.routeOptions.url) return; // unknown route: the 404 handler answers
    request.principal = await resolvePrincipal(deps, request);
  };
}

export async function resolvePrincipal(deps: Deps, request: FastifyRequest): Promise<Principal> {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(pk_[A-Za-z0-9_-]{10,100})$/.exec(header);
    if (!match?.[1]) throw new ParleyError('PARLEY_ERR_UNAUTHENTICATED', 'Authorization must be "Bearer <API key>"');
    return principalFromApiKey(deps.db, match[1]);
  }
  const token = request.cookies[SESSION_COOKIE];
  if (!token) throw new ParleyError('PARLEY_ERR_UNAUTHENTICATED', 'not logged in');
  const principal = await principalFromSession(deps.db, token);
  if (!SAFE_METHODS.has(request.method)) {
    const sent = request.headers['x-csrf-token'];
    if (typeof sent !== 'string' || !principal.csrfToken || !safeEqual(sent, principal.csrfToken)) {
      throw new ParleyError('PARLEY_ERR_CSRF', 'missing or wrong x-csrf-token header');
    }
  }
  return principal;
}
