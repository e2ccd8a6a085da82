import type { Role } from '../db/schema.ts';
import { ParleyError } from '../errors.ts';

/** Who is calling: a person with a session, or a program with an API key. Always one tenant. */
export interface Principal {
  tenantId: string;
  role: Role;
  /** null for API keys. */
  userId: string | null;
  name: string;
  via: 'session' | 'api-key';
  sessionId?: string;
  csrfToken?: string;
}

const rank: Record<Role, number> = { agent: 0, supervisor: 1, admin: 2 };

export function requireRole(principal: Principal, role: Role): void {
  if (rank[principal.role] < rank[role]) {
    throw new ParleyError('PARLEY_ERR_FORBIDDEN', `this action needs the ${role} role`);
  }
}
