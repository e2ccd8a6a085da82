/** HTTP helpers for integration tests: one request function for every kind of caller. */

export type Auth = { apiKey: string } | { bearer: string } | { cookie: string; csrf: string };

export interface Answer {
  status: number;
  // Test code reads answers loosely; the schemas are what the tests check.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
  headers: Headers;
}

export function authHeaders(auth: Auth | undefined): Record<string, string> {
  if (!auth) return {};
  if ('apiKey' in auth) return { authorization: `Bearer ${auth.apiKey}` };
  if ('bearer' in auth) return { authorization: `Bearer ${auth.bearer}` };
  return { cookie: auth.cookie, 'x-csrf-token': auth.csrf };
}

const urlOf = (baseUrl: string, path: string) => `${baseUrl}${path.startsWith('/api/') ? '' : '/api/v1'}${path}`;

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** Calls `baseUrl + /api/v1 + path` (or an `/api/…` path as is) with JSON or a raw body. */
export async function call(baseUrl: string, method: string, path: string, opts: { auth?: Auth; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers = { ...authHeaders(opts.auth), ...opts.headers };
  const body = opts.body !== undefined ? JSON.stringify(opts.body) : opts.raw;
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  return answer(await fetch(urlOf(baseUrl, path), { method, headers, body }));
}

/** POSTs one file as multipart/form-data in the field `file`. */
export async function upload(baseUrl: string, path: string, auth: Auth | undefined, file: { name: string; type: string; bytes: Buffer | string }): Promise<Answer> {
  const form = new FormData();
  form.append('file', new Blob([typeof file.bytes === 'string' ? file.bytes : new Uint8Array(file.bytes)], { type: file.type }), file.name);
  return answer(await fetch(urlOf(baseUrl, path), { method: 'POST', headers: authHeaders(auth), body: form }));
}

/** Logs in with a password; returns the session cookie and CSRF token as an Auth. */
export async function login(baseUrl: string, email: string, password: string): Promise<{ cookie: string; csrf: string; user: { id: string; name: string } }> {
  const res = await fetch(`${baseUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (res.status !== 200) throw new Error(`login of ${email}: HTTP ${res.status}`);
  const body = (await res.json()) as { csrfToken: string; user: { id: string; name: string } };
  return { cookie: res.headers.getSetCookie()[0]!.split(';')[0]!, csrf: body.csrfToken, user: body.user };
}
