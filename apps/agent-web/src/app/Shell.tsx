import { AdminPage } from '../admin/AdminPage';
import { useI18n } from '../i18n/i18n';
import { AgentStateMenu } from '../routing/AgentStateMenu';
import { OfferStack } from '../routing/OfferStack';
import { WallboardPage } from '../routing/WallboardPage';
import { SettingsPage } from '../settings/SettingsPage';
import { Workspace } from '../workspace/Workspace';
import { useWorkspace, WorkspaceProvider } from '../workspace/workspace-store';
import { Avatar } from '../ui/Avatar';
import { Icon } from '../ui/Icon';
import { routeHref, supervisorSections, type Route } from './hash-route';
import { useSession } from './session';

export function Shell({ route }: { route: Route }) {
  const openId = route.name === 'conversations' ? route.conversationId : null;
  return (
    <WorkspaceProvider openConversationId={openId}>
      <div className="shell">
        <NavRail route={route} />
        <div className="shell-main">
          <TopBar />
          <main className="shell-page">
            {route.name === 'admin' ? <AdminPage section={route.section} itemId={route.itemId} />
              : route.name === 'settings' ? <SettingsPage />
              : route.name === 'wallboard' ? <WallboardPage />
              : <Workspace conversationId={openId} />}
          </main>
        </div>
        <OfferStack />
      </div>
    </WorkspaceProvider>
  );
}

/** The shell header: who and where I am, and my routing state. */
function TopBar() {
  const { session } = useSession();
  return (
    <header className="topbar">
      <span className="topbar-tenant">{session.tenant.name}</span>
      <span className="push-right" />
      <AgentStateMenu />
    </header>
  );
}

function NavRail({ route }: { route: Route }) {
  const { t } = useI18n();
  const { session } = useSession();
  const { status } = useWorkspace();
  const role = session.user.role;
  const isAdmin = role === 'admin';
  const isSupervisor = role === 'supervisor';
  const item = (active: boolean, href: string, icon: Parameters<typeof Icon>[0]['name'], label: string, name: string) => (
    <a className={`rail-item${active ? ' active' : ''}`} href={href} title={label} aria-label={label}
      aria-current={active ? 'page' : undefined} data-nav={name}>
      <Icon name={icon} />
    </a>
  );
  return (
    <nav className="rail" aria-label={t('nav.main')}>
      <a className="rail-logo" href="#/conversations" aria-label="Parley"><span className="logo-mark">P</span></a>
      {item(route.name === 'conversations', routeHref({ name: 'conversations', conversationId: null }), 'inbox', t('nav.conversations'), 'conversations')}
      {(isAdmin || isSupervisor) && item(route.name === 'wallboard', routeHref({ name: 'wallboard' }), 'chart', t('nav.wallboard'), 'wallboard')}
      {isAdmin && item(route.name === 'admin', routeHref({ name: 'admin', section: 'inboxes', itemId: null }), 'gear', t('nav.admin'), 'admin')}
      {isSupervisor && item(route.name === 'admin', routeHref({ name: 'admin', section: supervisorSections[0]!, itemId: null }), 'gear', t('nav.routingAdmin'), 'admin')}
      <div className="rail-spacer" />
      <span className={`conn conn-${status}`} role="status" title={t(`conn.${status}`)} aria-label={t(`conn.${status}`)}
        data-status={status}>
        <span className="conn-dot" />
      </span>
      <a className={`rail-item rail-me${route.name === 'settings' ? ' active' : ''}`} href="#/settings"
        title={`${session.user.name} — ${t('nav.settings')}`} aria-label={t('nav.settings')}>
        <Avatar name={session.user.name} size={30} />
      </a>
    </nav>
  );
}
