import { Type } from 'typebox';
import type { Deps } from '../deps.ts';
import { IdParams, Items, principalOf, responses, type App } from '../http.ts';
import { ParleyError, notFound } from '../errors.ts';
import { requireRole } from '../auth/principal.ts';
import { newId, newToken, sha256 } from '../ids.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../auth/password.ts';
import { createApiKey, forgetApiKeys } from '../auth/api-keys.ts';
import { startSession } from '../auth/auth.routes.ts';
import { RoleSchema, SessionDto, toUserDto, UserDto } from './user-dto.ts';

const INVITATION_DAYS = 7;

const InvitationDto = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: RoleSchema,
  acceptUrl: Type.Optional(Type.String()),
  expiresAt: Type.String(),
  acceptedAt: Type.Union([Type.String(), Type.Null()]),
});
const ApiKeyDto = Type.Object({ id: Type.String(), name: Type.String(), prefix: Type.String(), key: Type.Optional(Type.String()), createdAt: Type.String(), lastUsedAt: Type.Union([Type.String(), Type.Null()]) });

export function userRoutes(app: App, deps: Deps) {
  const db = deps.db;

  app.get('/users', { schema: { tags: ['users'], response: responses({ 200: Items(UserDto) }) } }, async (request) => {
    const { tenantId } = principalOf(request);
    const rows = await db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
    return { items: rows.map(toUserDto) };
  });

  app.get('/invitations', { schema: { tags: ['users'], response: responses({ 200: Items(InvitationDto) }) } }, async (request) => {
    const principal = principalOf(request);
    requireRole(principal, 'admin');
    const rows = await db.selectFrom('invitations').selectAll().where('tenant_id', '=', principal.tenantId).orderBy('created_at', 'desc').execute();
    return {
      items: rows.map((r) => ({ id: r.id, email: r.email, role: r.role, expiresAt: r.expires_at.toISOString(), acceptedAt: r.accepted_at?.toISOString() ?? null })),
    };
  });

  app.post(
    '/invitations',
    {
      schema: {
        tags: ['users'],
        body: Type.Object({ email: Type.String({ format: 'email', maxLength: 254 }), role: RoleSchema }, { additionalProperties: false }),
        response: responses({ 201: InvitationDto }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      const email = request.body.email.trim().toLowerCase();
      const taken = await db.selectFrom('users').select('id').where((eb) => eb(eb.fn('lower', ['email']), '=', email)).executeTakeFirst();
      if (taken) throw new ParleyError('PARLEY_ERR_EMAIL_TAKEN', `a user with email ${email} already exists`);
      const token = newToken('inv');
      const row = {
        id: newId('inv'),
        tenant_id: principal.tenantId,
        email,
        role: request.body.role,
        token_hash: sha256(token),
        invited_by: principal.userId ?? 'api-key',
        expires_at: new Date(Date.now() + INVITATION_DAYS * 86_400_000),
      };
      await db.insertInto('invitations').values(row).execute();
      const base = deps.config.publicUrl ?? `${request.protocol}://${request.host}`;
      return reply.status(201).send({
        id: row.id,
        email,
        role: row.role,
        acceptUrl: `${base}/app/#/invite/${token}`,
        expiresAt: row.expires_at.toISOString(),
        acceptedAt: null,
      });
    },
  );

  app.post(
    '/invitations/:token/accept',
    {
      config: { public: true },
      schema: {
        tags: ['users'],
        params: Type.Object({ token: Type.String({ minLength: 10, maxLength: 200 }) }),
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: MIN_PASSWORD_LENGTH, maxLength: 200 }) }),
        response: responses({ 200: SessionDto }),
      },
    },
    async (request, reply) => {
      // Look the token up before paying for a password hash: guesses cost the server nothing.
      const known = await db.selectFrom('invitations').select('id').where('token_hash', '=', sha256(request.params.token)).executeTakeFirst();
      if (!known) throw notFound('invitation');
      const passwordHash = await hashPassword(request.body.password);
      const userId = newId('usr');
      await db.transaction().execute(async (trx) => {
        const inv = await trx.selectFrom('invitations').selectAll().where('token_hash', '=', sha256(request.params.token)).forUpdate().executeTakeFirst();
        if (!inv) throw notFound('invitation');
        if (inv.accepted_at) throw new ParleyError('PARLEY_ERR_INVITATION_USED', 'this invitation was already accepted');
        if (inv.expires_at.getTime() < Date.now()) throw new ParleyError('PARLEY_ERR_INVITATION_USED', 'this invitation has expired');
        const taken = await trx.selectFrom('users').select('id').where((eb) => eb(eb.fn('lower', ['email']), '=', inv.email)).executeTakeFirst();
        if (taken) throw new ParleyError('PARLEY_ERR_EMAIL_TAKEN', `a user with email ${inv.email} already exists`);
        await trx.insertInto('users').values({ id: userId, tenant_id: inv.tenant_id, email: inv.email, name: request.body.name, role: inv.role, locale: 'en', password_hash: passwordHash }).execute();
        await trx.updateTable('invitations').set({ accepted_at: new Date() }).where('id', '=', inv.id).execute();
      });
      return startSession(deps, reply, userId);
    },
  );

  app.get('/api-keys', { schema: { tags: ['users'], response: responses({ 200: Items(ApiKeyDto) }) } }, async (request) => {
    const principal = principalOf(request);
    requireRole(principal, 'admin');
    const rows = await db.selectFrom('api_keys').selectAll().where('tenant_id', '=', principal.tenantId).where('revoked_at', 'is', null).orderBy('created_at').execute();
    return { items: rows.map((r) => ({ id: r.id, name: r.name, prefix: r.prefix, createdAt: r.created_at.toISOString(), lastUsedAt: r.last_used_at?.toISOString() ?? null })) };
  });

  app.post(
    '/api-keys',
    { schema: { tags: ['users'], body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) }), response: responses({ 201: ApiKeyDto }) } },
    async (request, reply) => {
      const principal = principalOf(request);
      requireRole(principal, 'admin');
      const key = await createApiKey(db, principal.tenantId, request.body.name, principal.userId);
      return reply.status(201).send({ ...key, lastUsedAt: null });
    },
  );

  app.delete('/api-keys/:id', { schema: { tags: ['users'], params: IdParams, response: responses({ 204: Type.Null() }) } }, async (request, reply) => {
    const principal = principalOf(request);
    requireRole(principal, 'admin');
    const res = await db.updateTable('api_keys').set({ revoked_at: new Date() }).where('tenant_id', '=', principal.tenantId).where('id', '=', request.params.id).where('revoked_at', 'is', null).executeTakeFirst();
    forgetApiKeys(db);
    if (Number(res.numUpdatedRows) === 0) throw notFound('API key');
    return reply.status(204).send(null);
  });
}
