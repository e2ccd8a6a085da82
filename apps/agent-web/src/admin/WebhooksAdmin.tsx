import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import type { Webhook } from '../api/types';
import { routeHref } from '../app/hash-route';
import { useI18n } from '../i18n/i18n';
import { SecretBox } from '../ui/CopyButton';
import { useLoad } from './use-load';

export const WEBHOOK_EVENTS = ['conversation.created', 'conversation.updated', 'message.created', 'conversation.read'] as const;

export function WebhooksAdmin({ selectedId }: { selectedId: string | null }) {
  const { t, formatDateTime } = useI18n();
  const { data, error, reload } = useLoad(() => api.webhooks());
  const [url, setUrl] = useState('');
  const [events, setEvents] = useState<string[]>(['conversation.created', 'message.created']);
  const [created, setCreated] = useState<Webhook | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const hooks = data?.items ?? [];
  const selected = hooks.find((h) => h.id === selectedId);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setActionError(null);
    if (events.length === 0) return setActionError(t('webhooks.pickEvent'));
    try {
      setCreated(await api.createWebhook(url.trim(), events));
      setUrl('');
      reload();
    } catch (err) {
      setActionError(errorText(t, err));
    }
  };

  const setEnabled = async (hook: Webhook, enabled: boolean) => {
    setActionError(null);
    try {
      await api.setWebhookEnabled(hook.id, enabled);
      reload();
    } catch (err) {
      setActionError(errorText(t, err));
    }
  };

  const remove = async (hook: Webhook) => {
    if (!window.confirm(t('webhooks.confirmDelete', { url: hook.url }))) return;
    try {
      await api.deleteWebhook(hook.id);
      reload();
    } catch (err) {
      setActionError(errorText(t, err));
    }
  };

  return (
    <div className="detail wide">
      <header className="section-header"><h2>{t('admin.webhooks')}</h2></header>
      <section className="card">
        <form onSubmit={create} className="stack">
          <label className="field">
            <span>{t('webhooks.url')}</span>
            <input className="input" type="url" required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://example.com/parley" />
          </label>
          <fieldset className="fieldset">
            <legend>{t('webhooks.events')}</legend>
            <div className="check-grid">
              {WEBHOOK_EVENTS.map((ev) => (
                <label key={ev} className="check">
                  <input type="checkbox" checked={events.includes(ev)}
                    onChange={(e) => setEvents((all) => (e.target.checked ? [...all, ev] : all.filter((x) => x !== ev)))} />
                  <code className="mono">{ev}</code>
                </label>
              ))}
            </div>
          </fieldset>
          <div><button className="btn btn-primary btn-sm" type="submit">{t('webhooks.create')}</button></div>
        </form>
        {created?.secret && <SecretBox title={t('webhooks.secret')} hint={t('webhooks.secretHint')} value={created.secret} />}
        {(actionError || error) && <p className="form-error">{actionError ?? error}</p>}
      </section>
      <section className="card flush">
        {hooks.length === 0 ? <p className="muted small pad">{t('webhooks.none')}</p> : (
          <table className="table">
            <thead><tr><th>{t('webhooks.url')}</th><th>{t('webhooks.events')}</th><th /></tr></thead>
            <tbody>
              {hooks.map((h) => (
                <tr key={h.id} className={h.id === selectedId ? 'selected' : undefined}>
                  <td>
                    <span className="mono break">{h.url}</span>
                    {!h.enabled && (
                      <p className="small muted">
                        <span className="pill pill-delivery-failed">{t('webhooks.paused')}</span>{' '}
                        {t(h.disabledReason === 'gone' ? 'webhooks.pausedGone' : 'webhooks.pausedByAdmin', { when: h.disabledAt ? formatDateTime(h.disabledAt) : '' })}
                      </p>
                    )}
                  </td>
                  <td>{h.events.map((e) => <span key={e} className="pill mono small">{e}</span>)}</td>
                  <td className="right nowrap">
                    <a className="btn btn-sm" href={routeHref({ name: 'admin', section: 'webhooks', itemId: h.id === selectedId ? null : h.id })}>
                      {t('webhooks.deliveries')}
                    </a>{' '}
                    <button type="button" className="btn btn-sm" onClick={() => void setEnabled(h, !h.enabled)}>{t(h.enabled ? 'webhooks.pause' : 'webhooks.resume')}</button>{' '}
                    <button type="button" className="btn btn-sm btn-danger" onClick={() => void remove(h)}>{t('common.delete')}</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {selected && <Deliveries key={selected.id} webhookId={selected.id} enabled={selected.enabled} />}
    </div>
  );
}

/** The endpoint's recent deliveries; `enabled`: it may be sent deliveries again (not paused). */
function Deliveries({ webhookId, enabled }: { webhookId: string; enabled: boolean }) {
  const { t, formatDateTime } = useI18n();
  const { data, error, reload } = useLoad(() => api.webhookDeliveries(webhookId));
  const [notice, setNotice] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const items = data?.items ?? [];
  const failed = items.filter((d) => d.status === 'failed').length;
  // A delivery is sent again with its id and body: the receiver can tell it from a new one.
  const sendAgain = async (send: () => Promise<unknown>) => {
    setNotice(null);
    setActionError(null);
    try {
      await send();
      reload();
    } catch (err) {
      setActionError(errorText(t, err));
    }
  };
  return (
    <section className="card flush">
      <div className="card-title-row pad">
        <h3>{t('webhooks.recentDeliveries')}</h3>
        <span>
          {enabled && failed > 0 && (
            <button type="button" className="btn btn-sm" onClick={() => void sendAgain(async () => setNotice(t('webhooks.redelivered', { count: (await api.redeliverFailedWebhooks(webhookId)).redelivered })))}>
              {t('webhooks.redeliverFailed', { count: failed })}
            </button>
          )}{' '}
          <button type="button" className="btn btn-sm" onClick={reload}>{t('common.refresh')}</button>
        </span>
      </div>
      {notice && <p className="muted small pad">{notice}</p>}
      {(actionError || error) && <p className="form-error pad">{actionError ?? error}</p>}
      {items.length === 0 ? <p className="muted small pad">{t('webhooks.noDeliveries')}</p> : (
        <table className="table">
          <thead>
            <tr><th>{t('webhooks.event')}</th><th>{t('webhooks.status')}</th><th>{t('webhooks.attempts')}</th><th>{t('webhooks.response')}</th><th>{t('webhooks.when')}</th><th /></tr>
          </thead>
          <tbody>
            {items.map((d) => (
              <tr key={d.id}>
                <td className="mono">{d.event}</td>
                <td><span className={`pill pill-delivery-${d.status}`}>{t(`webhooks.delivery.${d.status}`)}</span></td>
                <td>{d.attempts}</td>
                <td>
                  {d.lastStatusCode !== null && <span className="mono">{d.lastStatusCode} </span>}
                  {d.lastError && <span className="form-error small">{d.lastError}</span>}
                </td>
                <td className="muted">{formatDateTime(d.deliveredAt ?? d.createdAt)}</td>
                <td className="right nowrap">
                  {enabled && d.status !== 'pending' && (
                    <button type="button" className="btn btn-sm" onClick={() => void sendAgain(() => api.redeliverWebhookDelivery(webhookId, d.id))}>{t('webhooks.redeliver')}</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
