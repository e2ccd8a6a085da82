import { useEffect, useRef } from 'react';
import type { Conversation } from '../api/types';
import { routeHref } from '../app/hash-route';
import { useSession } from '../app/session';
import { useI18n, type MessageKey } from '../i18n/i18n';
import type { AssigneeFilter, StatusFilter } from '../realtime/inbox-state';
import { SlaBadge } from '../routing/SlaBadge';
import { runningClocks } from '../routing/sla-view';
import { useNow } from '../routing/use-now';
import { Avatar } from '../ui/Avatar';
import { ChannelIcon } from '../ui/ChannelIcon';
import { contactDisplayName, useWorkspace } from './workspace-store';

const assigneeTabs: { value: AssigneeFilter; label: MessageKey }[] = [
  { value: 'mine', label: 'filter.mine' },
  { value: 'unassigned', label: 'filter.unassigned' },
  { value: 'all', label: 'filter.all' },
];
const statuses: StatusFilter[] = ['open', 'pending', 'snoozed', 'resolved', 'all'];

export function ConversationList({ openId }: { openId: string | null }) {
  const { t } = useI18n();
  const { state, setFilters, inboxes, labels, requestRouting, routingAvailable } = useWorkspace();
  const { filters, counts } = state;
  const items = state.listIds.map((id) => state.conversations[id]).filter((c): c is Conversation => Boolean(c));
  // SLA badges: a coarse clock while every due time is minutes away, a fine one when seconds count.
  const nearDue = items.some((c) => (state.routing[c.id]?.sla ?? []).some((d) => Math.abs(Date.parse(d.dueAt) - Date.now()) < 120_000));
  const now = useNow(nearDue ? 1000 : 15_000);
  // Routing details (SLA clocks) of the conversations shown that still run clocks.
  const activeIds = items.filter((c) => c.status === 'open' || c.status === 'pending').map((c) => c.id).join(',');
  useEffect(() => {
    if (routingAvailable && activeIds) requestRouting(activeIds.split(','));
  }, [activeIds, requestRouting, routingAvailable]);

  return (
    <aside className="list-pane" aria-label={t('list.title')}>
      <header className="list-header">
        <h1>{t('list.title')}</h1>
      </header>
      <div className="tabs" role="tablist" aria-label={t('filter.assignee')}>
        {assigneeTabs.map((tab) => (
          <button key={tab.value} type="button" role="tab" aria-selected={filters.assignee === tab.value}
            className={`tab${filters.assignee === tab.value ? ' active' : ''}`} data-filter={tab.value}
            onClick={() => setFilters({ ...filters, assignee: tab.value })}>
            {t(tab.label)}
            <span className="tab-count" data-count={tab.value}>{counts ? counts[tab.value] : '–'}</span>
          </button>
        ))}
      </div>
      <div className="filter-row">
        <select className="select select-sm" aria-label={t('filter.status')} value={filters.status}
          onChange={(e) => setFilters({ ...filters, status: e.target.value as StatusFilter })}>
          {statuses.map((s) => <option key={s} value={s}>{t(`status.${s}`)}</option>)}
        </select>
        <select className="select select-sm" aria-label={t('filter.inbox')} value={filters.inboxId ?? ''}
          onChange={(e) => setFilters({ ...filters, inboxId: e.target.value || null })}>
          <option value="">{t('filter.allInboxes')}</option>
          {inboxes.map((i) => <option key={i.id} value={i.id}>{i.name}</option>)}
        </select>
        <select className="select select-sm" aria-label={t('filter.label')} value={filters.label ?? ''}
          onChange={(e) => setFilters({ ...filters, label: e.target.value || null })}>
          <option value="">{t('filter.allLabels')}</option>
          {labels.map((l) => <option key={l} value={l}>{l}</option>)}
        </select>
      </div>
      {state.listLoaded && items.length === 0 ? (
        <div className="list-empty muted">{t('list.empty')}</div>
      ) : (
        <ul className="conv-list" role="list">
          {items.map((c) => <ConversationRow key={c.id} conversation={c} active={c.id === openId} now={now} />)}
        </ul>
      )}
      {!state.listLoaded && (
        <ul className="conv-list skeleton" aria-hidden="true">
          {[0, 1, 2, 3].map((i) => <li key={i} className="conv-row"><span className="sk sk-avatar" /><span className="sk sk-lines" /></li>)}
        </ul>
      )}
    </aside>
  );
}

function ConversationRow({ conversation: c, active, now }: { conversation: Conversation; active: boolean; now: number }) {
  const { t, formatTime } = useI18n();
  const { session } = useSession();
  const { inboxes, users, state } = useWorkspace();
  const clocks = runningClocks(state.routing[c.id]?.sla, c);
  const ref = useRef<HTMLAnchorElement>(null);
  const name = contactDisplayName(c.contact, t('contact.anonymous'));
  const inbox = inboxes.find((i) => i.id === c.inboxId);
  const last = c.lastMessage;
  let prefix = '';
  if (last?.private) prefix = `${t('list.notePrefix')} `;
  else if (last?.direction === 'out') prefix = `${t('list.youPrefix')} `;
  const preview = last ? last.content || (last.attachments.length ? t('message.attachmentOnly') : '') : '';
  const assignee = c.assigneeId && c.assigneeId !== session.user.id ? users.find((u) => u.id === c.assigneeId)?.name : null;

  useEffect(() => {
    if (active) ref.current?.scrollIntoView({ block: 'nearest' });
  }, [active]);

  return (
    <li>
      <a ref={ref} href={routeHref({ name: 'conversations', conversationId: c.id })}
        className={`conv-row${active ? ' active' : ''}${c.unreadCount > 0 ? ' unread' : ''}`}
        data-conversation-id={c.id} aria-current={active ? 'true' : undefined}>
        <Avatar name={name} seed={c.contact.id} size={34} />
        <div className="conv-main">
          <div className="conv-top">
            <span className="conv-name">{name}</span>
            <time className="conv-time" dateTime={c.lastActivityAt}>{formatTime(c.lastActivityAt)}</time>
          </div>
          <div className="conv-bottom">
            <span className="conv-preview">{prefix}{preview}</span>
            {c.unreadCount > 0 && (
              <span className="badge" aria-label={t('list.unread', { count: c.unreadCount })}>{c.unreadCount}</span>
            )}
          </div>
          <div className="conv-meta">
            <ChannelIcon channel={c.channelType ?? inbox?.channelType} size={13} />
            {inbox && <span className="inbox-tag"><span className="dot" style={{ background: inbox.settings.color }} />{inbox.name}</span>}
            {last?.status === 'failed' && last.direction === 'out' && <span className="pill pill-delivery-failed">{t('delivery.failed')}</span>}
            {c.status !== 'open' && <span className={`pill pill-${c.status}`}>{t(`status.${c.status}`)}</span>}
            {c.priority > 0 && <span className={`pill pill-prio-${c.priority}`}>{t(priorityKey(c.priority))}</span>}
            <SlaBadge clocks={clocks} now={now} />
            {assignee && <span className="muted small">→ {assignee}</span>}
            {c.labels.slice(0, 3).map((l) => <span key={l} className="label-chip small">{l}</span>)}
          </div>
        </div>
      </a>
    </li>
  );
}

export function priorityKey(p: number): MessageKey {
  if (p >= 4) return 'priority.urgent';
  if (p === 3) return 'priority.high';
  if (p === 2) return 'priority.medium';
  if (p === 1) return 'priority.low';
  return 'priority.none';
}
