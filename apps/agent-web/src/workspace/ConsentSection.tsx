import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from '../api/client';
import { errorText } from '../i18n/error-text';
import type { Consent, Conversation } from '../api/types';
import { useSession } from '../app/session';
import { useI18n } from '../i18n/i18n';
import { ChannelIcon } from '../ui/ChannelIcon';
import { formatRelative } from '../ui/relative-time';
import { sendPolicyChanged } from './use-send-policy';
import { useWorkspace } from './workspace-store';

/**
 * The contact's messaging consent per sending number (STOP / START and their Spanish and
 * Portuguese forms set it); supervisors and admins may change it by hand, e.g. on a written request.
 */
export function ConsentSection({ conversation }: { conversation: Conversation }) {
  const { t, locale, formatDateTime } = useI18n();
  const { session } = useSession();
  const { inboxes, state } = useWorkspace();
  const [items, setItems] = useState<Consent[] | null>(null);
  const [hidden, setHidden] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const contactId = conversation.contact.id;
  const canChange = session.user.role === 'admin' || session.user.role === 'supervisor';
  // An inbound STOP changes consent: look again when the customer writes.
  const lastId = state.messages[conversation.id]?.at(-1)?.id;

  const load = useCallback(() => {
    api.consents(contactId).then(
      (r) => setItems(r.items),
      (err) => (err instanceof ApiError && err.status === 404 ? setHidden(true) : setError(errorText(t, err))),
    );
  }, [contactId]);
  useEffect(load, [load, lastId]);

  if (hidden) return null;

  const toggle = async (c: Consent) => {
    setError(null);
    try {
      await api.setConsent(contactId, c.inboxId, c.status === 'opted_out' ? 'opted_in' : 'opted_out');
      load();
      if (c.inboxId === conversation.inboxId) sendPolicyChanged(conversation.id);
    } catch (err) {
      setError(errorText(t, err));
    }
  };

  return (
    <section className="panel-section" data-testid="consents">
      <h4>{t('consent.title')}</h4>
      {items === null && !error && <p className="muted small">{t('common.loading')}</p>}
      {items?.length === 0 && <p className="muted small">{t('consent.none')}</p>}
      <ul className="consents">
        {items?.map((c) => {
          const inbox = inboxes.find((i) => i.id === c.inboxId);
          const out = c.status === 'opted_out';
          return (
            <li key={`${c.inboxId}/${c.handle}`} data-consent={c.status}>
              <div className="consent-top">
                <span className="mono small">{c.handle}</span>
                <span className={`pill ${out ? 'pill-delivery-failed' : 'pill-verified'}`}>{out ? t('consent.optedOut') : t('consent.optedIn')}</span>
              </div>
              <div className="muted small">
                {inbox && <><ChannelIcon channel={inbox.channelType} size={11} /> {inbox.name} · </>}
                <time dateTime={c.changedAt} title={formatDateTime(c.changedAt)}>
                  {c.keyword ? t('consent.detail', { keyword: c.keyword, when: formatRelative(c.changedAt, Date.now(), locale) }) : formatRelative(c.changedAt, Date.now(), locale)}
                </time>
              </div>
              {canChange && (
                <button type="button" className="link-btn small" onClick={() => void toggle(c)}>
                  {out ? t('consent.markOptedIn') : t('consent.markOptedOut')}
                </button>
              )}
            </li>
          );
        })}
      </ul>
      {error && <p className="form-error">{error}</p>}
    </section>
  );
}
