/** Hash routes of the agent app: `#/login`, `#/conversations/:id`, `#/admin/:section`, `#/invite/:token`. */

export type AdminSection = 'inboxes' | 'users' | 'api-keys' | 'webhooks' | 'canned-replies';
export const adminSections: AdminSection[] = ['inboxes', 'users', 'api-keys', 'webhooks', 'canned-replies'];

export type Route =
  | { name: 'login' }
  | { name: 'invite'; token: string }
  | { name: 'conversations'; conversationId: string | null }
  | { name: 'admin'; section: AdminSection; itemId: string | null }
  | { name: 'settings' };

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
