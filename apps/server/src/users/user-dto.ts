import { Type, type Static } from 'typebox';
import type { UserRow } from '../db/schema.ts';

export const RoleSchema = Type.Union([Type.Literal('admin'), Type.Literal('supervisor'), Type.Literal('agent')]);
export const LocaleSchema = Type.Union([Type.Literal('en'), Type.Literal('es-MX'), Type.Literal('pt-BR')]);

export const UserDto = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  locale: LocaleSchema,
  createdAt: Type.String(),
});
export type UserDto = Static<typeof UserDto>;

export function toUserDto(u: UserRow): UserDto {
  return { id: u.id, email: u.email, name: u.name, role: u.role, locale: u.locale, createdAt: u.created_at.toISOString() };
}

export const SessionDto = Type.Object({
  user: UserDto,
  tenant: Type.Object({ id: Type.String(), name: Type.String() }),
  csrfToken: Type.String(),
});
