import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import type { Deps } from '../deps.ts';
import { principalOf, responses, type App } from '../http.ts';
import { ParleyError } from '../errors.ts';
import { LocaleSchema, SessionDto, toUserDto } from '../users/user-dto.ts';
import { hashPassword, MIN_PASSWORD_LENGTH, verifyPassword } from './password.ts';
import { createSession, endOtherSessions, endSession, SESSION_COOKIE } from './sessions.ts';
import { assertMayTryLogin, clearLoginFailures, recordLoginFailure } from './login-throttle.ts';

const Email = Type.String({ minLength: 3, maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: 200 });

export async function startSession(deps: Deps, reply: FastifyReply, userId: string) {
  const user = await deps.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
  const tenant = await deps.db.selectFrom('tenants').select(['id', 'name']).where('id', '=', user.tenant_id).executeTakeFirstOrThrow();
  const { token, csrfToken } = await createSession(deps.db, user, deps.config.sessionTtlHours);
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: (deps.config.publicUrl ?? '').startsWith('https://'),
    maxAge: deps.config.sessionTtlHours * 3600,
  });
  return { user: toUserDto(user), tenant, csrfToken };
}

export function authRoutes(app: App, deps: Deps) {
  app.post(
    '/auth/login',
    {
      config: { public: true },
      schema: { tags: ['auth'], body: Type.Object({ email: Email, password: Password }), response: responses({ 200: SessionDto }) },
    },
    async (request, reply) => {
      const { email } = request.body;
      await assertMayTryLogin(deps.db, email, request.ip);
      const user = await deps.db
        .selectFrom('users')
        .select(['id', 'password_hash'])
        .where((eb) => eb(eb.fn('lower', ['email']), '=', email.trim().toLowerCase()))
        .executeTakeFirst();
      // Hash even for unknown emails, so the answer time does not tell which emails exist.
      const ok = await verifyPassword(request.body.password, user?.password_hash ?? (await dummyHash()));
      if (!user || !ok) {
        await recordLoginFailure(deps.db, email, request.ip);
        throw new ParleyError('PARLEY_ERR_INVALID_CREDENTIALS', 'wrong email or password');
      }
      await clearLoginFailures(deps.db, email);
      return startSession(deps, reply, user.id);
    },
  );

  app.post('/auth/logout', { schema: { tags: ['auth'], response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    const principal = principalOf(request);
    if (principal.sessionId) await endSession(deps.db, principal.sessionId);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send(null);
  });

  app.get('/auth/me', { schema: { tags: ['auth'], response: responses({ 200: SessionDto }) } }, async (request) => {
    const principal = principalOf(request);
    if (!principal.userId) throw new ParleyError('PARLEY_ERR_BAD_REQUEST', 'an API key has no user session');
    return currentSession(deps, principal.userId, principal.csrfToken ?? '');
  });

  app.patch(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })), locale: Type.Optional(LocaleSchema) }, { additionalProperties: false }),
        response: responses({ 200: SessionDto }),
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (!principal.userId) throw new ParleyError('PARLEY_ERR_BAD_REQUEST', 'an API key has no user profile');
      const { name, locale } = request.body;
      if (name !== undefined || locale !== undefined) {
        await deps.db.updateTable('users').set({ ...(name ? { name } : {}), ...(locale ? { locale } : {}) }).where('id', '=', principal.userId).where('tenant_id', '=', principal.tenantId).execute();
      }
      return currentSession(deps, principal.userId, principal.csrfToken ?? '');
    },
  );

  app.post(
    '/auth/password',
    {
      schema: {
        tags: ['auth'],
        body: Type.Object({ currentPassword: Password, newPassword: Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 200 }) }),
        response: responses({ 204: Type.Null() }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      if (!principal.userId) throw new ParleyError('PARLEY_ERR_BAD_REQUEST', 'an API key has no password');
      const user = await deps.db.selectFrom('users').select(['password_hash']).where('id', '=', principal.userId).executeTakeFirstOrThrow();
      if (!user.password_hash || !(await verifyPassword(request.body.currentPassword, user.password_hash))) {
        throw new ParleyError('PARLEY_ERR_INVALID_CREDENTIALS', 'the current password is wrong');
      }
      await deps.db
        .updateTable('users')
        .set({ password_hash: await hashPassword(request.body.newPassword), password_changed_at: new Date() })
        .where('id', '=', principal.userId)
        .execute();
      await endOtherSessions(deps.db, principal.userId, principal.sessionId);
      return reply.status(204).send(null);
    },
  );
}

async function currentSession(deps: Deps, userId: string, csrfToken: string) {
  const user = await deps.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
  const tenant = await deps.db.selectFrom('tenants').select(['id', 'name']).where('id', '=', user.tenant_id).executeTakeFirstOrThrow();
  return { user: toUserDto(user), tenant, csrfToken };
}

let dummy: Promise<string> | null = null;
const dummyHash = () => (dummy ??= hashPassword('parley-timing-equalizer'));
