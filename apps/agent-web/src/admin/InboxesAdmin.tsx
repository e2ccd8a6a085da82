import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import { PROVIDER_CHANNELS, type Inbox, type InboxSettings, type PrechatField, type ProviderChannel } from '../api/types';
import { navigate, routeHref } from '../app/hash-route';
import { useI18n } from '../i18n/i18n';
import { ChannelIcon } from '../ui/ChannelIcon';
import { CopyButton } from '../ui/CopyButton';
import { useWorkspace } from '../workspace/workspace-store';
import { ChannelHealth } from './ChannelHealth';
import { ChannelInboxForm, type ConnectableChannel } from './ChannelInboxForm';
import { useLoad } from './use-load';

const DEFAULT_COLOR = '#3b5bdb';

type NewChannel = 'webchat' | ConnectableChannel;
const NEW_CHANNELS: NewChannel[] = ['webchat', 'email', ...PROVIDER_CHANNELS];
const isProviderChannel = (c: string): c is ProviderChannel => (PROVIDER_CHANNELS as readonly string[]).includes(c);
const isConnectable = (c: string): c is ConnectableChannel => c === 'email' || isProviderChannel(c);

export function InboxesAdmin({ selectedId }: { selectedId: string | null }) {
  const { t } = useI18n();
  const { data, error, reload: reloadList } = useLoad(() => api.inboxes());
  const { reloadInboxes } = useWorkspace();
  const reload = () => {
    reloadList();
    reloadInboxes();
  };
  const [name, setName] = useState('');
  const [channel, setChannel] = useState<NewChannel>('webchat');
  /** A provider channel being connected: its form takes the detail pane until saved or cancelled. */
  const [connecting, setConnecting] = useState<ConnectableChannel | null>(null);
  const [createError, setCreateError] = useState<string | null>(null);
  const inboxes = data?.items ?? [];
  const selected = inboxes.find((i) => i.id === selectedId) ?? null;

  const opened = (inbox: Inbox) => {
    setConnecting(null);
    reload();
    navigate({ name: 'admin', section: 'inboxes', itemId: inbox.id });
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setCreateError(null);
    if (channel !== 'webchat') {
      setConnecting(channel);
      return;
    }
    try {
      const inbox = await api.createInbox({
        name: name.trim(), channelType: 'webchat',
        settings: { color: DEFAULT_COLOR, greeting: '', prechat: { enabled: true, fields: [{ name: 'name', required: true }, { name: 'email', required: false }] }, allowedDomains: [] },
      });
      setName('');
      opened(inbox);
    } catch (err) {
      setCreateError(errorText(t, err));
    }
  };

  return (
    <div className="admin-split">
      <section className="admin-list">
        <header className="section-header"><h2>{t('admin.inboxes')}</h2></header>
        <form className="connect-form" onSubmit={create} aria-label={t('channel.connect')}>
          <span className="muted small">{t('channel.connect')}</span>
          <div className="inline-form">
            <select className="select select-sm" name="channelType" value={channel} aria-label={t('channel.pick')}
              onChange={(e) => setChannel(e.target.value as NewChannel)}>
              {NEW_CHANNELS.map((c) => <option key={c} value={c}>{t(`channel.${c}`)}</option>)}
            </select>
            {channel === 'webchat' && (
              <input className="input input-sm" name="inboxName" required value={name} onChange={(e) => setName(e.target.value)}
                placeholder={t('inbox.newPlaceholder')} aria-label={t('inbox.name')} maxLength={80} />
            )}
            <button className="btn btn-primary btn-sm" type="submit">{channel === 'webchat' ? t('inbox.create') : t('channel.connectSubmit')}</button>
          </div>
        </form>
        {createError && <p className="form-error">{createError}</p>}
        {error && <p className="form-error">{error}</p>}
        <ul className="item-list">
          {inboxes.map((i) => (
            <li key={i.id}>
              <a href={routeHref({ name: 'admin', section: 'inboxes', itemId: i.id })} className={`item${i.id === selectedId && !connecting ? ' active' : ''}`}
                onClick={() => setConnecting(null)}>
                <ChannelIcon channel={i.channelType} />
                <span className="item-title">{i.name}</span>
                <span className="muted small">{channelAddress(i) ?? t(`channel.${i.channelType}`)}</span>
              </a>
            </li>
          ))}
          {data && inboxes.length === 0 && <li className="muted small pad">{t('inbox.none')}</li>}
        </ul>
      </section>
      <section className="admin-detail">
        {connecting ? (
          <div className="detail">
            <header className="section-header">
              <h2><ChannelIcon channel={connecting} size={18} /> {t('channel.connectTitle', { channel: t(`channel.${connecting}`) })}</h2>
            </header>
            <ChannelInboxForm key={connecting} channel={connecting} inbox={null} onSaved={opened} onCancel={() => setConnecting(null)} />
          </div>
        ) : selected ? (
          isConnectable(selected.channelType)
            ? <ChannelInboxEditor key={selected.id} inbox={selected} channel={selected.channelType} onSaved={reload} />
            : <InboxEditor key={selected.id} inbox={selected} onSaved={reload} />
        ) : (
          <div className="empty-state"><p className="muted">{t('inbox.select')}</p></div>
        )}
      </section>
    </div>
  );
}

/** The number or account an inbox is connected to, for the list. */
function channelAddress(inbox: Inbox): string | null {
  return inbox.settings.sms?.number ?? inbox.settings.meta?.displayNumber ?? (inbox.settings.email?.address as string | undefined) ?? null;
}

/** The routing queue of an inbox: saved at once, apart from the inbox settings (its own route). */
function InboxQueueField({ inbox, onStatus }: { inbox: Inbox; onStatus: (s: { ok: boolean; text: string } | null) => void }) {
  const { t } = useI18n();
  const { queues } = useWorkspace();
  const [queueId, setQueueId] = useState(inbox.queueId ?? '');
  if (queues.length === 0) return null;
  return (
    <label className="field span-2">
      <span>{t('inbox.queue')}</span>
      <select className="select" name="queueId" value={queueId}
        onChange={(e) => {
          const next = e.target.value;
          setQueueId(next);
          onStatus(null);
          api.setInboxQueue(inbox.id, next || null).then(
            () => onStatus({ ok: true, text: t('common.saved') }),
            (err) => onStatus({ ok: false, text: errorText(t, err) }),
          );
        }}>
        <option value="">{t('inbox.defaultQueue')}</option>
        {queues.filter((q) => !q.isDefault).map((q) => <option key={q.id} value={q.id}>{q.name}</option>)}
      </select>
      <span className="muted small">{t('inbox.queueHint')}</span>
    </label>
  );
}

function ChannelInboxEditor({ inbox, channel, onSaved }: { inbox: Inbox; channel: ConnectableChannel; onSaved: () => void }) {
  const { t } = useI18n();
  const [queueStatus, setQueueStatus] = useState<{ ok: boolean; text: string } | null>(null);
  return (
    <div className="detail">
      <header className="section-header">
        <h2><ChannelIcon channel={channel} size={18} /> {inbox.name}</h2>
        <span className="muted small">{t(`channel.${channel}`)}{channelAddress(inbox) ? ` · ${channelAddress(inbox)}` : ''}</span>
      </header>
      <ChannelInboxForm channel={channel} inbox={inbox} onSaved={onSaved} />
      <section className="card">
        <InboxQueueField inbox={inbox} onStatus={setQueueStatus} />
        {queueStatus && <span className={queueStatus.ok ? 'ok' : 'form-error'} role="status">{queueStatus.text}</span>}
      </section>
      {/* Email has no provider to test: mail arrives by Parley's SMTP listener or its IMAP polling. */}
      {isConnectable(channel) && <ChannelHealth inbox={inbox} webhooks={isProviderChannel(channel)} />}
    </div>
  );
}

function InboxEditor({ inbox, onSaved }: { inbox: Inbox; onSaved: () => void }) {
  const { t } = useI18n();
  const [name, setName] = useState(inbox.name);
  const [settings, setSettings] = useState<InboxSettings>(inbox.settings);
  const [domains, setDomains] = useState(inbox.settings.allowedDomains.join('\n'));
  const [snippet, setSnippet] = useState<string | null>(null);
  const [showSecret, setShowSecret] = useState(false);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    api.inboxSnippet(inbox.id).then((r) => setSnippet(r.html), () => setSnippet(null));
  }, [inbox.id]);

  const field = (n: PrechatField['name']) => settings.prechat.fields.find((f) => f.name === n);
  const setField = (n: PrechatField['name'], value: { enabled: boolean; required: boolean }) => {
    const others = settings.prechat.fields.filter((f) => f.name !== n);
    const fields = value.enabled ? [...others, { name: n, required: value.required }] : others;
    // Keep a stable order: name first.
    fields.sort((a, b) => (a.name === 'name' ? -1 : b.name === 'name' ? 1 : 0));
    setSettings({ ...settings, prechat: { ...settings.prechat, fields } });
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setStatus(null);
    const allowedDomains = domains.split(/[\s,]+/).map((d) => d.trim()).filter(Boolean);
    try {
      await api.updateInbox(inbox.id, { name: name.trim(), settings: { ...settings, allowedDomains } });
      setStatus({ ok: true, text: t('common.saved') });
      onSaved();
    } catch (err) {
      setStatus({ ok: false, text: errorText(t, err) });
    }
  };

  return (
    <div className="detail">
      <header className="section-header">
        <h2>{inbox.name}</h2>
        <span className="muted small mono">{inbox.publicId}</span>
      </header>
      <form className="form-grid" onSubmit={save}>
        <label className="field">
          <span>{t('inbox.name')}</span>
          <input className="input" required value={name} onChange={(e) => setName(e.target.value)} maxLength={80} />
        </label>
        <label className="field">
          <span>{t('inbox.color')}</span>
          <span className="color-row">
            <input type="color" value={settings.color || DEFAULT_COLOR} onChange={(e) => setSettings({ ...settings, color: e.target.value })}
              aria-label={t('inbox.color')} />
            <code className="mono small">{settings.color}</code>
          </span>
        </label>
        <InboxQueueField inbox={inbox} onStatus={setStatus} />
        <label className="field span-2">
          <span>{t('inbox.greeting')}</span>
          <textarea className="input" rows={2} value={settings.greeting} maxLength={500}
            onChange={(e) => setSettings({ ...settings, greeting: e.target.value })} placeholder={t('inbox.greetingPlaceholder')} />
        </label>
        <fieldset className="field span-2 fieldset">
          <legend>{t('inbox.prechat')}</legend>
          <label className="check">
            <input type="checkbox" checked={settings.prechat.enabled}
              onChange={(e) => setSettings({ ...settings, prechat: { ...settings.prechat, enabled: e.target.checked } })} />
            {t('inbox.prechatEnabled')}
          </label>
          {(['name', 'email'] as const).map((n) => {
            const f = field(n);
            return (
              <div key={n} className="prechat-row">
                <label className="check">
                  <input type="checkbox" checked={Boolean(f)} disabled={!settings.prechat.enabled}
                    onChange={(e) => setField(n, { enabled: e.target.checked, required: f?.required ?? false })} />
                  {t(n === 'name' ? 'inbox.fieldName' : 'inbox.fieldEmail')}
                </label>
                <label className="check">
                  <input type="checkbox" checked={f?.required ?? false} disabled={!f || !settings.prechat.enabled}
                    onChange={(e) => setField(n, { enabled: true, required: e.target.checked })} />
                  {t('inbox.required')}
                </label>
              </div>
            );
          })}
        </fieldset>
        <label className="field span-2">
          <span>{t('inbox.allowedDomains')}</span>
          <textarea className="input mono" rows={3} value={domains} onChange={(e) => setDomains(e.target.value)}
            placeholder="https://www.example.com" />
          <span className="muted small">{t('inbox.allowedDomainsHint')}</span>
        </label>
        <div className="span-2 form-actions">
          <button className="btn btn-primary" type="submit">{t('common.save')}</button>
          {status && <span className={status.ok ? 'ok' : 'form-error'} role="status">{status.text}</span>}
        </div>
      </form>

      <section className="card">
        <div className="card-title-row">
          <h3>{t('inbox.snippet')}</h3>
          {snippet && <CopyButton text={snippet} />}
        </div>
        <p className="muted small">{t('inbox.snippetHint')}</p>
        <pre className="code-block" data-testid="snippet">{snippet ?? t('common.loading')}</pre>
      </section>

      {inbox.identitySecret && (
        <section className="card">
          <div className="card-title-row">
            <h3>{t('inbox.identitySecret')}</h3>
            <span className="row-gap">
              <button type="button" className="btn btn-sm" onClick={() => setShowSecret((v) => !v)}>
                {showSecret ? t('common.hide') : t('common.show')}
              </button>
              <CopyButton text={inbox.identitySecret} />
            </span>
          </div>
          <p className="muted small">{t('inbox.identitySecretHint')}</p>
          <code className="mono code-block">{showSecret ? inbox.identitySecret : '•'.repeat(32)}</code>
        </section>
      )}
    </div>
  );
}
