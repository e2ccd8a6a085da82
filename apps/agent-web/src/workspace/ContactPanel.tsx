import { useEffect, useState } from 'react';
import { api } from '../api/client';
import type { Conversation } from '../api/types';
import { routeHref } from '../app/hash-route';
import { useI18n } from '../i18n/i18n';
import { Avatar } from '../ui/Avatar';
import { Icon } from '../ui/Icon';
import { hasSendPolicy } from '../composer/send-policy';
import { ConsentSection } from './ConsentSection';
import { contactDisplayName, userName, useWorkspace } from './workspace-store';

function attributeText(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function ContactPanel({ conversation: c }: { conversation: Conversation }) {
  const { t, formatDateTime, formatTime } = useI18n();
  const { users, inboxes } = useWorkspace();
  // Consent belongs to numbers and accounts a provider sends from: not to web chat or email.
  const channel = c.channelType ?? inboxes.find((i) => i.id === c.inboxId)?.channelType;
  const [history, setHistory] = useState<Conversation[] | null>(null);
  const contact = c.contact;
  const name = contactDisplayName(contact, t('contact.anonymous'));

  useEffect(() => {
    setHistory(null);
  }, [contact.id]);

  // Refetched when the status changes, without flashing "loading" over the current list.
  useEffect(() => {
    let cancelled = false;
    api.contactConversations(contact.id).then(
      (r) => !cancelled && setHistory(r.items),
      () => !cancelled && setHistory([]),
    );
    return () => {
      cancelled = true;
    };
  }, [contact.id, c.status]);

  const attrs = Object.entries(contact.customAttributes ?? {});
  const convAttrs = Object.entries(c.customAttributes ?? {});
  const past = (history ?? []).filter((x) => x.id !== c.id);
  const assignee = userName(users, c.assigneeId);

  return (
    <aside className="contact-pane" aria-label={t('contact.title')}>
      <div className="contact-card">
        <Avatar name={name} seed={contact.id} size={56} />
        <h3>{name}</h3>
        {contact.verified && <span className="pill pill-verified"><Icon name="shield" size={12} /> {t('contact.verified')}</span>}
      </div>
      <dl className="props">
        <dt><Icon name="mail" size={14} /> {t('contact.email')}</dt>
        <dd>{contact.email ? <a href={`mailto:${contact.email}`}>{contact.email}</a> : <span className="muted">—</span>}</dd>
        <dt><Icon name="phone" size={14} /> {t('contact.phone')}</dt>
        <dd>{contact.phone ?? <span className="muted">—</span>}</dd>
        {contact.identifier && (<><dt>{t('contact.identifier')}</dt><dd className="mono">{contact.identifier}</dd></>)}
        <dt>{t('contact.since')}</dt>
        <dd>{formatDateTime(contact.createdAt)}</dd>
      </dl>
      {hasSendPolicy(channel) && <ConsentSection conversation={c} />}
      <section className="panel-section">
        <h4>{t('contact.attributes')}</h4>
        {attrs.length === 0 ? <p className="muted small">{t('contact.noAttributes')}</p> : (
          <dl className="props">
            {attrs.map(([k, v]) => [<dt key={`k-${k}`}>{k}</dt>, <dd key={`v-${k}`}>{attributeText(v)}</dd>])}
          </dl>
        )}
      </section>
      <section className="panel-section">
        <h4>{t('contact.conversationDetails')}</h4>
        <dl className="props">
          <dt>{t('action.assignee')}</dt>
          <dd>{assignee ?? <span className="muted">{t('action.unassigned')}</span>}</dd>
          <dt>{t('contact.started')}</dt>
          <dd>{formatDateTime(c.createdAt)}</dd>
          {convAttrs.map(([k, v]) => [<dt key={`k-${k}`}>{k}</dt>, <dd key={`v-${k}`}>{attributeText(v)}</dd>])}
        </dl>
      </section>
      <section className="panel-section">
        <h4>{t('contact.previous')}</h4>
        {history === null ? <p className="muted small">{t('common.loading')}</p>
          : past.length === 0 ? <p className="muted small">{t('contact.noPrevious')}</p> : (
            <ul className="history">
              {past.map((p) => (
                <li key={p.id}>
                  <a href={routeHref({ name: 'conversations', conversationId: p.id })}>
                    <span className="history-top">
                      <span className={`pill pill-${p.status}`}>{t(`status.${p.status}`)}</span>
                      <time className="muted small" dateTime={p.lastActivityAt}>{formatTime(p.lastActivityAt)}</time>
                    </span>
                    <span className="history-preview">{p.lastMessage?.content || t('conversation.noMessages')}</span>
                  </a>
                </li>
              ))}
            </ul>
          )}
      </section>
    </aside>
  );
}
