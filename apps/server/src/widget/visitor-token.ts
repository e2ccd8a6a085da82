import { createHmac } from 'node:crypto';
import { ParleyError } from '../errors.ts';
import { safeEqual } from '../ids.ts';

/** What a visitor token grants: one conversation of one inbox, nothing else. */
export interface VisitorClaims {
  tenantId: string;
  inboxId: string;
  conversationId: string;
  contactId: string;
}

const sign = (secret: string, body: string) => createHmac('sha256', secret).update(`visitor.${body}`).digest('base64url');

export function issueVisitorToken(secret: string, claims: VisitorClaims): string {
  const body = Buffer.from(JSON.stringify([claims.tenantId, claims.inboxId, claims.conversationId, claims.contactId])).toString('base64url');
  return `vt1.${body}.${sign(secret, body)}`;
}

export function verifyVisitorToken(secret: string, token: string | undefined): VisitorClaims {
  const parts = token?.split('.') ?? [];
  const [version, body, mac] = parts;
  if (parts.length !== 3 || version !== 'vt1' || !body || !mac || !safeEqual(sign(secret, body), mac)) {
    throw new ParleyError('PARLEY_ERR_UNAUTHENTICATED', 'missing or invalid visitor token');
  }
  const [tenantId, inboxId, conversationId, contactId] = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as string[];
  return { tenantId: tenantId!, inboxId: inboxId!, conversationId: conversationId!, contactId: contactId! };
}

/** `hex(HMAC-SHA256(inbox identity secret, identifier))`, computed by the host site's backend. */
export function identityHashValid(identitySecret: string, identifier: string, hash: string): boolean {
  const expected = createHmac('sha256', identitySecret).update(identifier).digest('hex');
  return safeEqual(expected, hash.toLowerCase());
}
