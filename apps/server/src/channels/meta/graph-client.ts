import type { MetaSettings } from './settings.ts';
import { guardedFetch } from '../../net/guarded-fetch.ts';
import { TargetRefusedError, type PrivateTargets } from '../../net/private-targets.ts';

export const DEFAULT_GRAPH_BASE_URL = 'https://graph.facebook.com';
export const DEFAULT_API_VERSION = 'v21.0';
/** Graph calls wait this long before giving up (a timeout is retried by the send job). */
const TIMEOUT_MS = 20_000;
/** Largest media file Parley downloads from Meta (WhatsApp's own limit for documents is 100 MB). */
export const MAX_MEDIA_BYTES = 100 * 1024 * 1024;

/**
 * Graph error codes that mean "not now" rather than "never": app, account and pair rate limits
 * (4, 17, 32, 613, 80007, 130429, 131048, 131056), temporary service errors (1, 2, 131000, 131016)
 * and spam-rate throttling. Every other 4xx is definitive.
 */
const RETRYABLE_CODES = new Set([1, 2, 4, 17, 32, 341, 613, 80006, 80007, 130429, 131000, 131016, 131048, 131056, 133004]);

export type GraphResult<T = Record<string, unknown>> = { ok: true; body: T } | { ok: false; retryable: boolean; error: string; status: number | null };

/** The parts of Meta settings a Graph call needs, with defaults applied. */
export function graphUrl(settings: Pick<MetaSettings, 'graphBaseUrl' | 'apiVersion'>, path: string): URL {
  const base = (settings.graphBaseUrl ?? DEFAULT_GRAPH_BASE_URL).replace(/\/+$/, '');
  return new URL(`${base}/${settings.apiVersion ?? DEFAULT_API_VERSION}/${path.replace(/^\/+/, '')}`);
}

/** Graph's error JSON `{error:{message,type,code,error_subcode,fbtrace_id}}` → a send result the job understands. */
export function graphFailure(status: number, body: unknown): { ok: false; retryable: boolean; error: string; status: number } {
  const error = (body as { error?: { message?: unknown; code?: unknown; error_subcode?: unknown; fbtrace_id?: unknown; error_data?: { details?: unknown } } } | null)?.error;
  const code = typeof error?.code === 'number' ? error.code : null;
  const subcode = typeof error?.error_subcode === 'number' ? error.error_subcode : null;
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${status}`;
  const details = typeof error?.error_data?.details === 'string' ? ` (${error.error_data.details})` : '';
  const retryable = status >= 500 || status === 429 || (code !== null && RETRYABLE_CODES.has(code));
  const label = code === null ? `Graph API HTTP ${status}` : `Graph API error ${code}${subcode ? `/${subcode}` : ''}`;
  return { ok: false, retryable, error: `${label}: ${message}${details}`.slice(0, 1000), status };
}

/**
 * One Graph API call with the inbox's access token (as a bearer header; Meta accepts it there
 * and it keeps the token out of logged URLs). JSON or multipart body; the answer as JSON. The
 * Graph base URL is the tenant's setting, so it may not lead into the server's network.
 */
export async function graphRequest<T = Record<string, unknown>>(
  settings: MetaSettings,
  request: { method: 'GET' | 'POST' | 'DELETE'; path: string; query?: Record<string, string>; json?: unknown; form?: FormData },
  privateTargets: PrivateTargets,
): Promise<GraphResult<T>> {
  if (!settings.accessToken) return { ok: false, retryable: false, error: 'the inbox has no Meta access token', status: null };
  const url = graphUrl(settings, request.path);
  for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { authorization: `Bearer ${settings.accessToken}` };
  let body: string | FormData | undefined;
  if (request.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.json);
  } else if (request.form) body = request.form;
  let res: Response;
  try {
    res = await guardedFetch(url, { method: request.method, headers, body, redirect: 'error', signal: AbortSignal.timeout(TIMEOUT_MS), privateTargets });
  } catch (err) {
    if (err instanceof TargetRefusedError) return { ok: false, retryable: false, error: `Graph API address refused: ${err.message}`, status: null };
    return { ok: false, retryable: true, error: `Graph API unreachable: ${(err as Error).message}`, status: null };
  }
  const text = await res.text().catch(() => '');
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) return graphFailure(res.status, parsed);
  if (!parsed || typeof parsed !== 'object') return { ok: false, retryable: true, error: `Graph API answered HTTP ${res.status} without JSON`, status: res.status };
  return { ok: true, body: parsed as T };
}

export interface DownloadedMedia {
  content: Buffer;
  contentType: string;
}

/**
 * Bytes at a media URL. WhatsApp media URLs (from `GET /{media-id}`) need the access token;
 * Messenger and Instagram attachment URLs are signed CDN links and get no token. The URL comes
 * in a (tenant-signed) webhook, so it may not lead into the server's network (guardedFetch).
 */
export async function downloadMedia(settings: MetaSettings, url: string, withToken: boolean, privateTargets: PrivateTargets): Promise<GraphResult<DownloadedMedia>> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, retryable: false, error: `not a URL: ${url.slice(0, 100)}`, status: null };
  }
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return { ok: false, retryable: false, error: 'media URL is not http(s)', status: null };
  const headers: Record<string, string> = withToken && settings.accessToken ? { authorization: `Bearer ${settings.accessToken}` } : {};
  let res: Response;
  try {
    res = await guardedFetch(target, { headers, signal: AbortSignal.timeout(TIMEOUT_MS), privateTargets });
  } catch (err) {
    // A URL into the server's network is refused for good: a redelivery would carry the same URL.
    return { ok: false, retryable: !(err instanceof TargetRefusedError), error: `media download failed: ${(err as Error).message}`, status: null };
  }
  if (!res.ok) {
    await res.body?.cancel();
    return { ok: false, retryable: res.status >= 500 || res.status === 429, error: `media download: HTTP ${res.status}`, status: res.status };
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_MEDIA_BYTES) {
    await res.body?.cancel();
    return { ok: false, retryable: false, error: `media of ${declared} bytes is over the ${MAX_MEDIA_BYTES}-byte limit`, status: res.status };
  }
  const content = Buffer.from(await res.arrayBuffer());
  if (content.length > MAX_MEDIA_BYTES) return { ok: false, retryable: false, error: 'media is over the size limit', status: res.status };
  return { ok: true, body: { content, contentType: res.headers.get('content-type')?.split(';')[0]?.trim() || 'application/octet-stream' } };
}
