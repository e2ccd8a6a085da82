/** Hash routes of the agent app: `#/login`, `#/conversations/:id`, `#/admin/:section`, `#/invite/:token`, `#/wallboard`. */

export type AdminSection = 'inboxes' | 'compliance' | 'users' | 'queues' | 'routing-agents' | 'api-keys' | 'webhooks' | 'canned-replies';
export const adminSections: AdminSection[] = ['inboxes', 'compliance', 'users', 'queues', 'routing-agents', 'api-keys', 'webhooks', 'canned-replies'];
/** Routing sections are open to supervisors too (they tune routing); the rest is for admins. */
export const supervisorSections: AdminSection[] = ['queues', 'routing-agents'];

export type Route =
  | { name: 'login' }
  | { name: 'invite'; token: string }
  | { name: 'conversations'; conversationId: string | null }
  | { name: 'admin'; section: AdminSection; itemId: string | null }
  | { name: 'settings' }
  | { name: 'wallboard' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '').replace(/^\/+/, '');
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const [head, second, third] = parts;
  switch (head) {
    case 'login':
      return { name: 'login' };
    case 'invite':
      return second ? { name: 'invite', token: second } : { name: 'login' };
    case 'settings':
      return { name: 'settings' };
    case 'wallboard':
      return { name: 'wallboard' };
    case 'admin': {
      const section = adminSections.find((s) => s === second) ?? 'inboxes';
      return { name: 'admin', section, itemId: third ?? null };
    }
    case 'conversations':
      return { name: 'conversations', conversationId: second ?? null };
    default:
      return { name: 'conversations', conversationId: null };
  }
}

export function routeHref(route: Route): string {
  switch (route.name) {
    case 'login':
      return '#/login';
    case 'invite':
      return `#/invite/${encodeURIComponent(route.token)}`;
    case 'settings':
      return '#/settings';
    case 'wallboard':
      return '#/wallboard';
    case 'admin':
      return `#/admin/${route.section}${route.itemId ? `/${encodeURIComponent(route.itemId)}` : ''}`;
    case 'conversations':
      return route.conversationId ? `#/conversations/${encodeURIComponent(route.conversationId)}` : '#/conversations';
  }
}

export function navigate(route: Route, replace = false): void {
  const href = routeHref(route);
  if (replace) history.replaceState(null, '', href);
  else if (location.hash !== href) location.hash = href;
  if (replace) window.dispatchEvent(new HashChangeEvent('hashchange'));
}
