import { Readable } from 'node:stream';
import http from 'node:http';
import https from 'node:https';
import { guardedLookup, hostOf, refusedLiteral, type PrivateTargets } from './private-targets.ts';

const MAX_REDIRECTS = 5;

/**
 * `fetch` for URLs that tenants choose or that arrive in their webhooks (webhook receivers,
 * provider APIs, provider media): the connection goes only to addresses `refusedAddress` lets through, checked
 * where the connection is made (each redirect hop too), so a name that resolves inside the
 * server's network — now or by rebinding later — is refused. Redirects are followed (up to 5,
 * without the Authorization header once they leave the first host) unless `redirect` says
 * `manual` or `error`. Answers a WHATWG Response like fetch.
 */
export async function guardedFetch(url: string | URL, init: RequestInit & { privateTargets: PrivateTargets }): Promise<Response> {
  const { privateTargets, redirect = 'follow', signal, method = 'GET' } = init;
  // The body and its content type as fetch would send them (string, URLSearchParams, FormData).
  const encoded = init.body === undefined || init.body === null ? null : new Request('http://body.invalid/', { method: 'POST', body: init.body });
  const body = encoded ? Buffer.from(await encoded.arrayBuffer()) : null;
  const headers = new Headers(init.headers);
  if (encoded && !headers.has('content-type') && encoded.headers.get('content-type')) headers.set('content-type', encoded.headers.get('content-type')!);
  let target = new URL(url);
  const firstHost = target.host;
  for (let hop = 0; ; hop++) {
    if (target.host !== firstHost) headers.delete('authorization');
    const res = await requestOnce(target, method, headers, body, privateTargets, signal ?? undefined);
    const location = res.headers.get('location');
    if (res.status < 300 || res.status > 399 || !location || redirect === 'manual') return res;
    await res.body?.cancel();
    if (redirect === 'error') throw new TypeError(`redirected to ${location}`);
    if (hop >= MAX_REDIRECTS) throw new TypeError(`more than ${MAX_REDIRECTS} redirects`);
    target = new URL(location, target);
  }
}

function requestOnce(target: URL, method: string, headers: Headers, body: Buffer | null, allowed: PrivateTargets, signal: AbortSignal | undefined): Promise<Response> {
  if (target.protocol !== 'http:' && target.protocol !== 'https:') return Promise.reject(new TypeError(`not an http(s) URL: ${target.protocol}`));
  const refused = refusedLiteral(hostOf(target), allowed);
  if (refused) return Promise.reject(refused);
  const client = target.protocol === 'https:' ? https : http;
  const outgoing: Record<string, string> = Object.fromEntries(headers);
  if (body) outgoing['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const request = client.request(target, { method, headers: outgoing, lookup: guardedLookup(allowed), signal }, (res) => {
      const answer = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) answer.append(name, v);
      }
      const status = res.statusCode ?? 0;
      const noBody = method === 'HEAD' || status === 204 || status === 304;
      if (noBody) res.resume();
      resolve(new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream), { status, statusText: res.statusMessage, headers: answer }));
    });
    request.on('error', reject);
    request.end(body ?? undefined);
  });
}
