import { useCallback, useEffect, useState } from 'react';
import { useLoad } from './use-load';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import type { ChannelError, ConnectionTest, DkimRecord, Inbox } from '../api/types';
import { useI18n } from '../i18n/i18n';
import { useNow } from '../routing/use-now';
import { CopyButton } from '../ui/CopyButton';
import { Icon } from '../ui/Icon';
import { formatRelative } from '../ui/relative-time';

/**
 * What an admin needs to see a channel inbox is working: the URLs to paste into the provider's
 * console (`webhooks`: channels a provider calls back; not email), the DKIM record of an email
 * inbox, a live test, the last errors.
 */
export function ChannelHealth({ inbox, webhooks }: { inbox: Inbox; webhooks: boolean }) {
  // Keyed by inbox: each loads its inbox's data once, and another inbox is another component.
  return (
    <>
      {webhooks && <WebhookUrls key={`w-${inbox.id}`} inboxId={inbox.id} />}
      {inbox.channelType === 'email' && <DkimKey key={`d-${inbox.id}`} inboxId={inbox.id} />}
      <ConnectionCheck inboxId={inbox.id} />
    </>
  );
}

function DkimKey({ inboxId }: { inboxId: string }) {
  const { t } = useI18n();
  // Wrapped, so that "no key yet" (null) is told apart from "not loaded yet".
  const loaded = useLoad(async () => ({ record: await api.dkimRecord(inboxId) }));
  const [made, setMade] = useState<DkimRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [making, setMaking] = useState(false);
  const record = made ?? loaded.data?.record ?? null;
  const make = async () => {
    // A new key fails DKIM until its record is published: asked first when one is in use.
    if (record && !window.confirm(t('channel.dkimReplaceConfirm'))) return;
    setMaking(true);
    setError(null);
    try {
      setMade(await api.makeDkimKey(inboxId));
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setMaking(false);
    }
  };
  const shownError = error ?? loaded.error;
  return (
    <section className="card" data-testid="dkim">
      <div className="card-title-row">
        <h3>{t('channel.dkim')}</h3>
        <button type="button" className="btn btn-sm" onClick={() => void make()} disabled={making || loaded.data === null} data-testid="dkim-make">
          {record ? t('channel.dkimReplace') : t('channel.dkimMake')}
        </button>
      </div>
      <p className="muted small">{record ? t('channel.dkimPublish') : t('channel.dkimNone')}</p>
      {shownError && <p className="form-error">{shownError}</p>}
      {record && (
        <dl className="webhook-urls" data-testid="dkim-record">
          <dt>{t('channel.dkimName')}</dt>
          <dd><code className="mono">{record.name}</code> <CopyButton text={record.name} /></dd>
          <dt>{t('channel.dkimValue')}</dt>
          <dd><code className="mono">{record.value}</code> <CopyButton text={record.value} /></dd>
        </dl>
      )}
    </section>
  );
}

function WebhookUrls({ inboxId }: { inboxId: string }) {
  const { t } = useI18n();
  const { data: urls, error } = useLoad(() => api.webhookUrls(inboxId));
  return (
    <section className="card" data-testid="webhook-urls">
      <h3>{t('channel.webhookUrls')}</h3>
      <p className="muted small">{t('channel.webhookUrlsHint')}</p>
      {error && <p className="form-error">{error}</p>}
      {!urls && !error && <p className="muted small">{t('common.loading')}</p>}
      {urls?.length === 0 && <p className="muted small">{t('channel.noWebhookUrls')}</p>}
      {urls && urls.length > 0 && (
        <dl className="webhook-urls">
          {urls.map((u) => [
            <dt key={`n-${u.name}`}>{u.name === 'messages' ? t('channel.webhook.messages') : u.name}</dt>,
            <dd key={`u-${u.name}`}><code className="mono">{u.url}</code> <CopyButton text={u.url} /></dd>,
          ])}
        </dl>
      )}
    </section>
  );
}

function ConnectionCheck({ inboxId }: { inboxId: string }) {
  const { t, locale } = useI18n();
  // Re-rendered now and then so "3 minutes ago" moves on; the clock itself is read at render.
  useNow(30_000);
  const now = Date.now();
  const [testing, setTesting] = useState(false);
  const [result, setResult] = useState<ConnectionTest | null>(null);
  const [errors, setErrors] = useState<ChannelError[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  const loadErrors = useCallback(() => {
    setLoadError(null);
    api.channelErrors(inboxId).then((r) => setErrors(r.items), (err) => setLoadError(errorText(t, err)));
  }, [inboxId]);
  useEffect(loadErrors, [loadErrors]);

  const test = async () => {
    setTesting(true);
    setResult(null);
    try {
      setResult(await api.testConnection(inboxId));
    } catch (err) {
      setResult({ ok: false, message: errorText(t, err) });
    } finally {
      setTesting(false);
      // A failed test is recorded as an error of the inbox: show it at once.
      loadErrors();
    }
  };

  return (
    <section className="card" data-testid="channel-health">
      <div className="card-title-row">
        <h3>{t('channel.testConnection')}</h3>
        <button type="button" className="btn btn-sm" onClick={() => void test()} disabled={testing} data-testid="test-connection">
          {testing ? t('channel.testing') : t('channel.testConnection')}
        </button>
      </div>
      <p className="muted small">{t('channel.testHint')}</p>
      {result && (
        <p className={`test-result ${result.ok ? 'ok' : 'failed'}`} role="status" data-testid="test-result" data-ok={result.ok}>
          <Icon name={result.ok ? 'check' : 'alert'} size={15} /> <strong>{result.ok ? t('channel.testOk') : t('channel.testFailed')}</strong>
          {result.message && <span> — {result.message}</span>}
        </p>
      )}
      <div className="card-title-row errors-title">
        <h3>{t('channel.errors')}</h3>
        <button type="button" className="btn btn-sm btn-ghost" onClick={loadErrors}>{t('common.refresh')}</button>
      </div>
      {loadError && <p className="form-error">{loadError}</p>}
      {errors?.length === 0 && <p className="muted small">{t('channel.noErrors')}</p>}
      {errors && errors.length > 0 && (
        <ul className="channel-errors" data-testid="channel-errors">
          {errors.map((e) => (
            <li key={e.id}>
              <span className="pill pill-delivery-failed mono">{e.kind}</span>
              <span className="channel-error-message">{e.message}</span>
              <time className="muted small" dateTime={e.createdAt} title={new Date(e.createdAt).toLocaleString(locale)}>
                {formatRelative(e.createdAt, now, locale)}
              </time>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
