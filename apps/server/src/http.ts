import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { ParleyError } from './errors.ts';
import type { Principal } from './auth/principal.ts';

/** The Fastify instance with TypeBox schemas as the source of request and response types. */
export type App = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxTypeProvider>;

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Routes reachable without a user session or API key (login, widget, health). */
    public?: boolean;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ParleyError('PARLEY_ERR_UNAUTHENTICATED', 'not logged in');
  return request.principal;
}

export const ErrorBody = Type.Object(
  {
    error: Type.Object({ code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) }),
  },
  { $id: 'ErrorBody' },
);

/** Response schemas for a route: its success shape plus the shared error body for 4xx/5xx. */
export function responses<S extends Record<number, TSchema>>(success: S) {
  return { ...success, '4xx': Type.Ref('ErrorBody'), '5xx': Type.Ref('ErrorBody') } as S & { '4xx': TSchema; '5xx': TSchema };
}

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
export const Items = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item) });
