import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { sha256 } from '../ids.ts';
import { MAX_FAILURES_PER_ADDRESS, MAX_FAILURES_PER_EMAIL } from './login-throttle.ts';
import { parseAddressSetting } from '../config.ts';
import { startTestParley, type TestParley, type TestTenant } from '../../test/test-parley.ts';

// Session, CSRF, API key, role and invitation rules (TN-2), against a real server over HTTP.

type Auth = { apiKey: string } | { cookie: string; csrf?: string };
interface Answer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  headers: Headers;
}
interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
  userId: string;
}

let t: TestParley;
let tenant: TestTenant;
const admin = (): Auth => ({ apiKey: tenant.apiKey });

async function api(method: string, path: string, opts: { auth?: Auth; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.auth && 'apiKey' in opts.auth) headers.authorization = `Bearer ${opts.auth.apiKey}`;
  if (opts.auth && 'cookie' in opts.auth) {
    headers.cookie = opts.auth.cookie;
    if (opts.auth.csrf !== undefined) headers['x-csrf-token'] = opts.auth.csrf;
  }
  const res = await fetch(`${t.baseUrl}/api/v1${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

function sessionFrom(answer: Answer): Session {
  const setCookie = answer.headers.getSetCookie().find((c) => c.startsWith('parley_session='));
  if (!setCookie) throw new Error(`no session cookie in answer ${answer.status}: ${JSON.stringify(answer.body)}`);
  return { cookie: setCookie.split(';')[0]!, csrf: answer.body.csrfToken, setCookie, userId: answer.body.user.id };
}

async function login(email: string, password: string): Promise<Session> {
  const answer = await api('POST', '/auth/login', { body: { email, password } });
  expect(answer.status).toBe(200);
  return sessionFrom(answer);
}

/** A new user of the tenant through the invitation flow; returns their logged-in session. */
async function inviteUser(role: 'agent' | 'supervisor' | 'admin', name = `User ${randomUUID().slice(0, 6)}`) {
  const email = `${role}-${randomUUID().slice(0, 8)}@example.com`;
  const password = 'a long enough password';
  const invitation = await api('POST', '/invitations', { auth: admin(), body: { email, role } });
  expect(invitation.status).toBe(201);
  const token = String(invitation.body.acceptUrl).split('/invite/')[1]!;
  const accepted = await api('POST', `/invitations/${token}/accept`, { body: { name, password } });
  expect(accepted.status).toBe(200);
  return { email, password, name, session: sessionFrom(accepted) };
}

const tokenOf = (s: Session) => decodeURIComponent(s.cookie.slice('parley_session='.length));

beforeAll(async () => {
  t = await startTestParley();
  tenant = await t.createTenant('Auth Co');
});
afterAll(async () => {
  await t?.stop();
});

describe('login and sessions', () => {
  it('login sets an httpOnly SameSite cookie and returns the user, tenant and csrfToken', async () => {
    const answer = await api('POST', '/auth/login', { body: { email: tenant.adminEmail.toUpperCase(), password: tenant.adminPassword } });
    expect(answer.status).toBe(200);
    expect(answer.body.user).toMatchObject({ id: tenant.adminUserId, email: tenant.adminEmail, role: 'admin' });
    expect(answer.body.tenant).toMatchObject({ id: tenant.tenantId, name: 'Auth Co' });
    expect(answer.body.csrfToken).toMatch(/^csrf_/);
    const { setCookie } = sessionFrom(answer);
    expect(setCookie).toMatch(/;\s*HttpOnly/i);
    expect(setCookie).toMatch(/;\s*SameSite=(Lax|Strict)/i);
    expect(setCookie).toMatch(/;\s*Path=\//i);
    // Only the hash of the cookie is stored.
    const token = tokenOf(sessionFrom(answer));
    const row = await t.db.selectFrom('sessions').select(['id', 'user_id']).where('id', '=', sha256(token)).executeTakeFirst();
    expect(row?.user_id).toBe(tenant.adminUserId);
    expect(await t.db.selectFrom('sessions').select('id').where('id', '=', token).executeTakeFirst()).toBeUndefined();
  });

  it('a wrong password or an unknown email is 401 PARLEY_ERR_INVALID_CREDENTIALS without a cookie', async () => {
    const before = await t.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    for (const body of [
      { email: tenant.adminEmail, password: 'not the password' },
      { email: 'nobody@example.com', password: tenant.adminPassword },
    ]) {
      const answer = await api('POST', '/auth/login', { body });
      expect(answer.status).toBe(401);
      expect(answer.body.error.code).toBe('PARLEY_ERR_INVALID_CREDENTIALS');
      expect(answer.headers.getSetCookie()).toEqual([]);
    }
    const after = await t.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
  });

  it('after 10 failed logins for one email, even the right password is refused with 429 and Retry-After until the window ends; a success resets the count', async () => {
    const user = await inviteUser('agent');
    const wrong = () => api('POST', '/auth/login', { body: { email: user.email, password: 'guess' } });
    for (let i = 0; i < MAX_FAILURES_PER_EMAIL - 1; i++) expect((await wrong()).status).toBe(401);
    // A success before the limit clears the count: ten more wrong guesses are needed again.
    await login(user.email.toUpperCase(), user.password);
    for (let i = 0; i < MAX_FAILURES_PER_EMAIL; i++) expect((await wrong()).status).toBe(401);
    const refused = await api('POST', '/auth/login', { body: { email: user.email, password: user.password } });
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('PARLEY_ERR_RATE_LIMITED');
    expect(refused.body.error.message).toMatch(/too many failed logins; try again in \d+ minutes?/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(refused.headers.getSetCookie()).toEqual([]);
    // Other accounts from the same address still log in (the address limit is higher).
    await login(tenant.adminEmail, tenant.adminPassword);
    // The window over (moved back in time here), the right password works again.
    await sql`UPDATE login_failures SET window_start = window_start - interval '15 minutes'`.execute(t.db);
    await login(user.email, user.password);
  });

  it('counts failed logins by the connecting address: a made-up X-Forwarded-For does not escape the address limit (no proxy is trusted by default)', async () => {
    const attempt = (i: number) =>
      fetch(`${t.baseUrl}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${i % 250}` },
        body: JSON.stringify({ email: `nobody-${i}-${randomUUID()}@example.com`, password: 'guess' }),
      });
    try {
      for (let i = 0; i < MAX_FAILURES_PER_ADDRESS; i++) expect((await attempt(i)).status).toBe(401);
      const refused = await attempt(MAX_FAILURES_PER_ADDRESS);
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('PARLEY_ERR_RATE_LIMITED');
    } finally {
      // The other tests log in from the same address.
      await sql`DELETE FROM login_failures`.execute(t.db);
    }
  });

  it('reads PARLEY_TRUST_PROXY: none by default, all, or a list of proxies', () => {
    expect(parseAddressSetting(undefined)).toBe(false);
    expect(parseAddressSetting('false')).toBe(false);
    expect(parseAddressSetting('true')).toBe(true);
    expect(parseAddressSetting(' 10.0.0.1, 10.1.0.0/16 ')).toEqual(['10.0.0.1', '10.1.0.0/16']);
  });

  it('GET /auth/me answers the session with the cookie and 401 without one', async () => {
    const s = await login(tenant.adminEmail, tenant.adminPassword);
    const me = await api('GET', '/auth/me', { auth: { cookie: s.cookie } });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user: { id: tenant.adminUserId }, tenant: { id: tenant.tenantId }, csrfToken: s.csrf });
    const anonymous = await api('GET', '/auth/me');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('PARLEY_ERR_UNAUTHENTICATED');
    const garbage = await api('GET', '/auth/me', { auth: { cookie: 'parley_session=ps_forged' } });
    expect(garbage.status).toBe(401);
  });

  it('a cookie request that changes something needs the right x-csrf-token, else 403 PARLEY_ERR_CSRF and nothing changes', async () => {
    const s = await login(tenant.adminEmail, tenant.adminPassword);
    const other = await login(tenant.adminEmail, tenant.adminPassword);
    const nameBefore = (await t.db.selectFrom('users').select('name').where('id', '=', tenant.adminUserId).executeTakeFirstOrThrow()).name;
    const inboxesBefore = await t.db.selectFrom('inboxes').select('id').where('tenant_id', '=', tenant.tenantId).execute();

    for (const csrf of [undefined, '', 'csrf_wrong', other.csrf]) {
      const patch = await api('PATCH', '/auth/me', { auth: { cookie: s.cookie, csrf }, body: { name: 'Hijacked' } });
      expect(patch.status, `csrf=${csrf}`).toBe(403);
      expect(patch.body.error.code).toBe('PARLEY_ERR_CSRF');
      const create = await api('POST', '/inboxes', { auth: { cookie: s.cookie, csrf }, body: { name: 'Evil', channelType: 'webchat' } });
      expect(create.status).toBe(403);
      expect(create.body.error.code).toBe('PARLEY_ERR_CSRF');
      const logout = await api('POST', '/auth/logout', { auth: { cookie: s.cookie, csrf } });
      expect(logout.status).toBe(403);
    }
    expect((await t.db.selectFrom('users').select('name').where('id', '=', tenant.adminUserId).executeTakeFirstOrThrow()).name).toBe(nameBefore);
    expect(await t.db.selectFrom('inboxes').select('id').where('tenant_id', '=', tenant.tenantId).execute()).toEqual(inboxesBefore);
    expect((await api('GET', '/auth/me', { auth: { cookie: s.cookie } })).status).toBe(200);

    const ok = await api('PATCH', '/auth/me', { auth: { cookie: s.cookie, csrf: s.csrf }, body: { name: 'Renamed Admin' } });
    expect(ok.status).toBe(200);
    expect(ok.body.user.name).toBe('Renamed Admin');
    await api('PATCH', '/auth/me', { auth: { cookie: s.cookie, csrf: s.csrf }, body: { name: nameBefore } });
  });

  it('logout ends the session: the old cookie gets 401 and its row is gone', async () => {
    const s = await login(tenant.adminEmail, tenant.adminPassword);
    const out = await api('POST', '/auth/logout', { auth: { cookie: s.cookie, csrf: s.csrf } });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie().join()).toMatch(/parley_session=;/);
    const me = await api('GET', '/auth/me', { auth: { cookie: s.cookie } });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('PARLEY_ERR_UNAUTHENTICATED');
    expect(await t.db.selectFrom('sessions').select('id').where('id', '=', sha256(tokenOf(s))).executeTakeFirst()).toBeUndefined();
  });

  it('an expired session is 401 PARLEY_ERR_SESSION_EXPIRED, then simply unknown', async () => {
    const s = await login(tenant.adminEmail, tenant.adminPassword);
    await t.db.updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000) }).where('id', '=', sha256(tokenOf(s))).execute();
    const me = await api('GET', '/auth/me', { auth: { cookie: s.cookie } });
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('PARLEY_ERR_SESSION_EXPIRED');
    const again = await api('GET', '/conversations', { auth: { cookie: s.cookie } });
    expect(again.status).toBe(401);
  });

  it('a password change ends the user\'s other sessions and keeps the current one', async () => {
    const user = await inviteUser('agent');
    const first = user.session;
    const second = await login(user.email, user.password);
    const wrong = await api('POST', '/auth/password', { auth: { cookie: first.cookie, csrf: first.csrf }, body: { currentPassword: 'not it at all', newPassword: 'another long password' } });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('PARLEY_ERR_INVALID_CREDENTIALS');
    expect((await api('GET', '/auth/me', { auth: { cookie: second.cookie } })).status).toBe(200);

    const changed = await api('POST', '/auth/password', { auth: { cookie: first.cookie, csrf: first.csrf }, body: { currentPassword: user.password, newPassword: 'another long password' } });
    expect(changed.status).toBe(204);
    const secondMe = await api('GET', '/auth/me', { auth: { cookie: second.cookie } });
    expect(secondMe.status).toBe(401);
    expect((await api('GET', '/auth/me', { auth: { cookie: first.cookie } })).status).toBe(200);
    expect((await api('POST', '/auth/login', { body: { email: user.email, password: user.password } })).status).toBe(401);
    await login(user.email, 'another long password');
    // The admin's sessions are not someone else's "other sessions".
    const adminSession = await login(tenant.adminEmail, tenant.adminPassword);
    expect((await api('GET', '/auth/me', { auth: { cookie: adminSession.cookie } })).status).toBe(200);
  });
});

describe('API keys', () => {
  it('a key is shown once, listed by prefix only, works as Bearer, and is dead once revoked', async () => {
    const created = await api('POST', '/api-keys', { auth: admin(), body: { name: 'CRM sync' } });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    expect(key).toMatch(/^pk_/);
    expect(created.body.prefix).toBe(key.slice(0, 10));

    const list = await api('GET', '/api-keys', { auth: admin() });
    expect(list.status).toBe(200);
    const listed = list.body.items.find((k: { id: string }) => k.id === created.body.id);
    expect(listed).toMatchObject({ name: 'CRM sync', prefix: key.slice(0, 10) });
    expect(listed.key).toBeUndefined();
    expect(JSON.stringify(list.body)).not.toContain(key);
    const row = await t.db.selectFrom('api_keys').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(sha256(key));
    expect(JSON.stringify(row)).not.toContain(key);

    const used = await api('GET', '/users', { auth: { apiKey: key } });
    expect(used.status).toBe(200);
    expect(used.body.items.map((u: { id: string }) => u.id)).toContain(tenant.adminUserId);

    const revoked = await api('DELETE', `/api-keys/${created.body.id}`, { auth: admin() });
    expect(revoked.status).toBe(204);
    const after = await api('GET', '/users', { auth: { apiKey: key } });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('PARLEY_ERR_UNAUTHENTICATED');
    expect((await api('GET', '/api-keys', { auth: admin() })).body.items.map((k: { id: string }) => k.id)).not.toContain(created.body.id);
    expect((await api('DELETE', `/api-keys/${created.body.id}`, { auth: admin() })).status).toBe(404);
  });

  it('a malformed Authorization header is 401, also with a valid cookie beside it', async () => {
    const s = await login(tenant.adminEmail, tenant.adminPassword);
    const res = await fetch(`${t.baseUrl}/api/v1/users`, { headers: { authorization: 'Bearer not-a-key', cookie: s.cookie } });
    expect(res.status).toBe(401);
    const unknown = await api('GET', '/users', { auth: { apiKey: 'pk_0123456789abcdefghij' } });
    expect(unknown.status).toBe(401);
  });
});

describe('roles', () => {
  it('an agent gets 403 on admin routes and nothing is created', async () => {
    const agent = await inviteUser('agent');
    const auth = { cookie: agent.session.cookie, csrf: agent.session.csrf };
    const count = async () =>
      Promise.all(
        (['inboxes', 'invitations', 'api_keys', 'webhook_endpoints'] as const).map(async (table) =>
          Number((await t.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n),
        ),
      );
    const before = await count();
    const { body: inboxes } = await api('GET', '/inboxes', { auth: admin() });
    const attempts: [string, string, unknown?][] = [
      ['POST', '/inboxes', { name: 'Agent inbox', channelType: 'webchat' }],
      ['GET', '/invitations'],
      ['POST', '/invitations', { email: `x-${randomUUID().slice(0, 6)}@example.com`, role: 'admin' }],
      ['GET', '/api-keys'],
      ['POST', '/api-keys', { name: 'mine' }],
      ['DELETE', '/api-keys/key_whatever'],
      ['GET', '/webhooks'],
      ['POST', '/webhooks', { url: 'https://example.com/hook', events: ['message.created'] }],
      ['DELETE', '/webhooks/whk_whatever'],
      ['GET', '/webhooks/whk_whatever/deliveries'],
    ];
    if (inboxes.items[0]) attempts.push(['PATCH', `/inboxes/${inboxes.items[0].id}`, { name: 'Renamed by agent' }]);
    for (const [method, path, body] of attempts) {
      const answer = await api(method, path, { auth, body });
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(answer.body.error.code).toBe('PARLEY_ERR_FORBIDDEN');
    }
    expect(await count()).toEqual(before);
    // What agents may do still works.
    expect((await api('GET', '/conversations', { auth })).status).toBe(200);
    expect((await api('GET', '/inboxes', { auth })).status).toBe(200);
  });

  it('an agent sees inboxes without their identity secret', async () => {
    const inbox = await api('POST', '/inboxes', { auth: admin(), body: { name: 'Secretive', channelType: 'webchat' } });
    expect(inbox.body.identitySecret).toMatch(/^ids_/);
    const agent = await inviteUser('agent');
    const seen = await api('GET', `/inboxes/${inbox.body.id}`, { auth: { cookie: agent.session.cookie } });
    expect(seen.status).toBe(200);
    expect(seen.body.identitySecret).toBeUndefined();
    const list = await api('GET', '/inboxes', { auth: { cookie: agent.session.cookie } });
    expect(JSON.stringify(list.body)).not.toContain(inbox.body.identitySecret);
  });
});

describe('invitations', () => {
  it('an invited person accepts with name and password and is logged in with the invited role', async () => {
    const email = `sup-${randomUUID().slice(0, 8)}@example.com`;
    const invitation = await api('POST', '/invitations', { auth: admin(), body: { email, role: 'supervisor' } });
    expect(invitation.status).toBe(201);
    expect(invitation.body).toMatchObject({ email, role: 'supervisor', acceptedAt: null });
    const token = String(invitation.body.acceptUrl).split('/app/#/invite/')[1]!;
    expect(token).toMatch(/^inv_/);
    // Only the hash of the token is stored, and the list does not give it out.
    const row = await t.db.selectFrom('invitations').selectAll().where('id', '=', invitation.body.id).executeTakeFirstOrThrow();
    expect(row.token_hash).toBe(sha256(token));
    expect(JSON.stringify((await api('GET', '/invitations', { auth: admin() })).body)).not.toContain(token);

    const accepted = await api('POST', `/invitations/${token}/accept`, { body: { name: 'Sue Pervisor', password: 'supervisor password' } });
    expect(accepted.status).toBe(200);
    expect(accepted.body.user).toMatchObject({ email, name: 'Sue Pervisor', role: 'supervisor' });
    expect(accepted.body.tenant.id).toBe(tenant.tenantId);
    const session = sessionFrom(accepted);
    expect(session.setCookie).toMatch(/HttpOnly/i);
    const me = await api('GET', '/auth/me', { auth: { cookie: session.cookie } });
    expect(me.body.user).toMatchObject({ email, role: 'supervisor' });
    await login(email, 'supervisor password');

    const twice = await api('POST', `/invitations/${token}/accept`, { body: { name: 'Second Time', password: 'another password' } });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('PARLEY_ERR_INVITATION_USED');
    expect(await t.db.selectFrom('users').select('id').where('email', '=', email).execute()).toHaveLength(1);
  });

  it('an expired invitation is 409 and creates no user; an unknown token is 404', async () => {
    const email = `late-${randomUUID().slice(0, 8)}@example.com`;
    const invitation = await api('POST', '/invitations', { auth: admin(), body: { email, role: 'agent' } });
    const token = String(invitation.body.acceptUrl).split('/invite/')[1]!;
    await t.db.updateTable('invitations').set({ expires_at: new Date(Date.now() - 60_000) }).where('id', '=', invitation.body.id).execute();
    const late = await api('POST', `/invitations/${token}/accept`, { body: { name: 'Late Comer', password: 'late password!' } });
    expect(late.status).toBe(409);
    expect(late.headers.getSetCookie()).toEqual([]);
    expect(await t.db.selectFrom('users').select('id').where('email', '=', email).execute()).toHaveLength(0);

    const unknown = await api('POST', `/invitations/inv_${'x'.repeat(30)}/accept`, { body: { name: 'Nobody', password: 'nobody password' } });
    expect(unknown.status).toBe(404);
  });

  it('an invitation for an email that already has a user is 409', async () => {
    const taken = await api('POST', '/invitations', { auth: admin(), body: { email: tenant.adminEmail, role: 'agent' } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('PARLEY_ERR_EMAIL_TAKEN');
  });
});
