import { Type, type Static } from 'typebox';
import type { ContactRow } from '../db/schema.ts';

export const ContactDto = Type.Object({
  id: Type.String(),
  name: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]),
  identifier: Type.Union([Type.String(), Type.Null()]),
  verified: Type.Boolean(),
  customAttributes: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String(),
});
export type ContactDto = Static<typeof ContactDto>;

export function toContactDto(c: ContactRow): ContactDto {
  return {
    id: c.id,
    name: c.name,
    email: c.email,
    phone: c.phone,
    identifier: c.identifier,
    verified: c.verified,
    customAttributes: c.custom_attributes,
    createdAt: c.created_at.toISOString(),
  };
}
