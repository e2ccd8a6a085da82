import { useSession } from '../app/session';
import { adminSections, routeHref, supervisorSections, type AdminSection } from '../app/hash-route';
import { useI18n, type MessageKey } from '../i18n/i18n';
import { ApiKeysAdmin } from './ApiKeysAdmin';
import { CannedRepliesAdmin } from './CannedRepliesAdmin';
import { ComplianceAdmin } from './ComplianceAdmin';
import { InboxesAdmin } from './InboxesAdmin';
import { QueuesAdmin } from './QueuesAdmin';
import { RoutingAgentsAdmin } from './RoutingAgentsAdmin';
import { UsersAdmin } from './UsersAdmin';
import { WebhooksAdmin } from './WebhooksAdmin';

const titles: Record<AdminSection, MessageKey> = {
  inboxes: 'admin.inboxes',
  compliance: 'admin.compliance',
  users: 'admin.users',
  queues: 'admin.queues',
  'routing-agents': 'admin.routingAgents',
  'api-keys': 'admin.apiKeys',
  webhooks: 'admin.webhooks',
  'canned-replies': 'admin.cannedReplies',
};

export function AdminPage({ section, itemId }: { section: AdminSection; itemId: string | null }) {
  const { t } = useI18n();
  const { session } = useSession();
  const role = session.user.role;
  const visible = role === 'admin' ? adminSections : role === 'supervisor' ? supervisorSections : [];
  if (!visible.includes(section)) {
    return <div className="page"><div className="page-body"><p className="form-error">{t('admin.forbidden')}</p></div></div>;
  }
  return (
    <div className="admin">
      <nav className="admin-nav" aria-label={t('nav.admin')}>
        <h1>{t('nav.admin')}</h1>
        {visible.map((s) => (
          <a key={s} href={routeHref({ name: 'admin', section: s, itemId: null })}
            className={`admin-nav-item${s === section ? ' active' : ''}`} aria-current={s === section ? 'page' : undefined}>
            {t(titles[s])}
          </a>
        ))}
      </nav>
      <div className="admin-content">
        {section === 'inboxes' && <InboxesAdmin selectedId={itemId} />}
        {section === 'compliance' && <ComplianceAdmin />}
        {section === 'users' && <UsersAdmin />}
        {section === 'queues' && <QueuesAdmin selectedId={itemId} />}
        {section === 'routing-agents' && <RoutingAgentsAdmin selectedId={itemId} />}
        {section === 'api-keys' && <ApiKeysAdmin />}
        {section === 'webhooks' && <WebhooksAdmin selectedId={itemId} />}
        {section === 'canned-replies' && <CannedRepliesAdmin />}
      </div>
    </div>
  );
}
