import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import { SMS_PROVIDERS, type Inbox, type InboxSettings, type ProviderChannel, type SmsProvider } from '../api/types';
import { useI18n, type MessageKey, type Translate } from '../i18n/i18n';
import {
  channelSettingsBody, EMAIL_FIELDS, emailFormFrom, emailSettingsFromForm, formValuesFrom, IMAP_FIELDS, metaFields, metaSettingsFromForm,
  secretIsSet, SMS_PROVIDER_FIELDS, SMS_PROVIDER_LABELS, SMTP_FIELDS, smsFormFrom, smsSettingsFromForm, type EmailForm, type FieldProblem,
  type FieldSpec, type FormValues, type TemplateProblem, type TemplateRow,
} from './channel-form';

/** Channels connected with this form: the provider channels and email. */
export type ConnectableChannel = ProviderChannel | 'email';

const emptyTemplate = (): TemplateRow => ({ name: '', language: '', body: '' });

/** Labels of the fields outside the provider specs, for problem messages. */
const otherLabels: Record<string, MessageKey> = {
  number: 'channel.number',
  maxSendsPerSecond: 'channel.maxSendsPerSecond',
};

type Problem = FieldProblem | TemplateProblem | (FieldProblem & { block?: 'smtp' | 'imap' });

function problemText(t: Translate, p: Problem, specs: FieldSpec[]): string {
  if ('index' in p) return t(`channel.template.${p.problem}`, { n: p.index + 1 });
  const block = 'block' in p ? p.block : undefined;
  const blockSpecs = block === 'smtp' ? SMTP_FIELDS : block === 'imap' ? IMAP_FIELDS : specs;
  const label = blockSpecs.find((s) => s.key === p.key)?.label ?? otherLabels[p.key] ?? 'channel.number';
  const field = block ? `${t(`email.${block}`)} · ${t(label)}` : t(label);
  if (p.key === 'number' || p.key === 'displayNumber') return t('channel.problem.number', { field });
  if (p.key === 'address' && !block) return t('email.problem.address', { field });
  return t(`channel.problem.${p.problem}`, { field });
}

/**
 * Connects a new SMS / WhatsApp / Messenger / Instagram inbox (`inbox` null) or edits one.
 * Secrets are never shown: a stored one reads "set — leave empty to keep".
 */
export function ChannelInboxForm({ channel, inbox, onSaved, onCancel }: {
  channel: ConnectableChannel;
  inbox: Inbox | null;
  onSaved: (inbox: Inbox) => void;
  onCancel?: () => void;
}) {
  const { t } = useI18n();
  const storedSms = inbox?.settings.sms;
  const storedMeta = inbox?.settings.meta;
  const storedEmail = inbox?.settings.email;
  const [email, setEmail] = useState<EmailForm>(() => emailFormFrom(storedEmail));
  const [name, setName] = useState(inbox?.name ?? '');
  const [sms, setSms] = useState(() => smsFormFrom(storedSms));
  const [meta, setMeta] = useState<FormValues>(() => (channel === 'email' ? {} : formValuesFrom(storedMeta, metaFields(channel))));
  const [templates, setTemplates] = useState<TemplateRow[]>(() => storedMeta?.templates?.map((x) => ({ ...x })) ?? []);
  const [problems, setProblems] = useState<string[]>([]);
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);

  const specs = channel === 'sms' ? SMS_PROVIDER_FIELDS[sms.provider] : channel === 'email' ? EMAIL_FIELDS : metaFields(channel);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setStatus(null);
    const built = channel === 'sms' ? smsSettingsFromForm(sms, storedSms)
      : channel === 'email' ? emailSettingsFromForm(email, storedEmail)
      : metaSettingsFromForm(channel, meta, templates, storedMeta);
    const texts = (built.problems as Problem[]).map((p) => problemText(t, p, specs));
    if (!name.trim()) texts.unshift(t('channel.problem.required', { field: t('inbox.name') }));
    setProblems(texts);
    if (texts.length) return;
    setSaving(true);
    try {
      const settings: Partial<InboxSettings> = channel === 'email' ? { email: built.value as Record<string, unknown> } : channelSettingsBody(channel, built.value as never);
      const saved = inbox
        ? await api.updateInbox(inbox.id, { name: name.trim(), settings })
        : await api.createInbox({ name: name.trim(), channelType: channel, settings });
      setStatus({ ok: true, text: t('common.saved') });
      onSaved(saved);
    } catch (err) {
      setStatus({ ok: false, text: errorText(t, err) });
    } finally {
      setSaving(false);
    }
  };

  const setProviderValue = (key: string, value: string | boolean) =>
    setSms((s) => ({ ...s, providers: { ...s.providers, [s.provider]: { ...s.providers[s.provider], [key]: value } } }));

  return (
    <form className="form-grid channel-form" onSubmit={submit} noValidate data-channel={channel}>
      <label className="field span-2">
        <span>{t('inbox.name')}</span>
        <input className="input" name="inboxName" required value={name} maxLength={100} placeholder={t('channel.inboxNamePlaceholder')}
          onChange={(e) => setName(e.target.value)} />
      </label>

      {channel === 'sms' ? (
        <>
          <label className="field">
            <span>{t('channel.number')}</span>
            <input className="input mono" name="sms.number" value={sms.number} placeholder="+5215512345678" inputMode="tel"
              onChange={(e) => setSms({ ...sms, number: e.target.value })} />
            <span className="muted small">{t('channel.numberHint')}</span>
          </label>
          <label className="field">
            <span>{t('channel.provider')}</span>
            <select className="select" name="sms.provider" value={sms.provider}
              onChange={(e) => setSms({ ...sms, provider: e.target.value as SmsProvider })}>
              {SMS_PROVIDERS.map((p) => <option key={p} value={p}>{SMS_PROVIDER_LABELS[p]}</option>)}
            </select>
          </label>
          <fieldset className="field span-2 fieldset provider-fields">
            <legend>{SMS_PROVIDER_LABELS[sms.provider]}</legend>
            <div className="form-grid">
              {specs.map((f) => (
                <SettingField key={`${sms.provider}.${f.key}`} scope={sms.provider} spec={f} value={sms.providers[sms.provider][f.key]}
                  isSet={storedSms?.provider === sms.provider && secretIsSet(storedSms[sms.provider], f.key)}
                  onChange={(v) => setProviderValue(f.key, v)} />
              ))}
            </div>
          </fieldset>
          <label className="field span-2">
            <span>{t('channel.maxSendsPerSecond')}</span>
            <input className="input input-narrow" name="sms.maxSendsPerSecond" inputMode="decimal" value={sms.maxSendsPerSecond}
              onChange={(e) => setSms({ ...sms, maxSendsPerSecond: e.target.value })} />
            <span className="muted small">{t('channel.maxSendsPerSecondHint')}</span>
          </label>
        </>
      ) : channel === 'email' ? (
        <>
          {EMAIL_FIELDS.map((f) => (
            <SettingField key={f.key} scope="email" spec={f} value={email.main[f.key]} isSet={false}
              onChange={(v) => setEmail((e) => ({ ...e, main: { ...e.main, [f.key]: v } }))} />
          ))}
          {(['smtp', 'imap'] as const).map((block) => (
            <fieldset key={block} className="field span-2 fieldset provider-fields">
              <legend>{t(`email.${block}`)}</legend>
              <p className="muted small">{t(block === 'smtp' ? 'email.smtpHint' : 'email.imapHint')}</p>
              <div className="form-grid">
                {(block === 'smtp' ? SMTP_FIELDS : IMAP_FIELDS).map((f) => (
                  <SettingField key={f.key} scope={block} spec={f} value={email[block][f.key]}
                    isSet={secretIsSet((storedEmail as Record<string, Record<string, unknown>> | undefined)?.[block] as never, f.key)}
                    onChange={(v) => setEmail((e) => ({ ...e, [block]: { ...e[block], [f.key]: v } }))} />
                ))}
              </div>
            </fieldset>
          ))}
        </>
      ) : (
        <>
          {specs.map((f) => (
            <SettingField key={f.key} scope="meta" spec={f} value={meta[f.key]} isSet={secretIsSet(storedMeta, f.key)}
              onChange={(v) => setMeta((m) => ({ ...m, [f.key]: v }))} />
          ))}
          {channel === 'whatsapp' && <TemplateListEditor rows={templates} onChange={setTemplates} />}
        </>
      )}

      {problems.length > 0 && (
        <ul className="span-2 form-problems" role="alert">
          {problems.map((p) => <li key={p} className="form-error">{p}</li>)}
        </ul>
      )}
      <div className="span-2 form-actions">
        <button className="btn btn-primary" type="submit" disabled={saving}>{inbox ? t('common.save') : t('channel.connectSubmit')}</button>
        {onCancel && <button className="btn" type="button" onClick={onCancel}>{t('common.cancel')}</button>}
        {status && <span className={status.ok ? 'ok' : 'form-error'} role="status">{status.text}</span>}
      </div>
    </form>
  );
}

function SettingField({ scope, spec, value, isSet, onChange }: {
  scope: string;
  spec: FieldSpec;
  value: string | boolean | undefined;
  isSet: boolean;
  onChange: (value: string | boolean) => void;
}) {
  const { t } = useI18n();
  const name = `${scope}.${spec.key}`;
  if (spec.kind === 'checkbox') {
    return (
      <label className="check check-field">
        <input type="checkbox" name={name} checked={value === true} onChange={(e) => onChange(e.target.checked)} />
        {t(spec.label)}
      </label>
    );
  }
  const secret = spec.kind === 'secret';
  return (
    <label className={`field${spec.kind === 'url' ? ' span-2' : ''}`}>
      <span>
        {t(spec.label)}
        {secret && <span className={`secret-state${isSet ? ' set' : ''}`} data-secret-state={isSet ? 'set' : 'missing'}> · {isSet ? t('channel.secretSet') : t('channel.secretMissing')}</span>}
      </span>
      <input className={`input${secret || spec.kind === 'url' ? ' mono' : ''}`} name={name} value={typeof value === 'string' ? value : ''}
        type={secret ? 'password' : 'text'} autoComplete={secret ? 'new-password' : 'off'} maxLength={spec.maxLength}
        inputMode={spec.kind === 'integer' ? 'numeric' : spec.kind === 'url' ? 'url' : undefined}
        placeholder={secret && isSet ? '••••••••' : spec.placeholder} onChange={(e) => onChange(e.target.value)} />
      {spec.hint && <span className="muted small">{t(spec.hint)}</span>}
    </label>
  );
}

function TemplateListEditor({ rows, onChange }: { rows: TemplateRow[]; onChange: (rows: TemplateRow[]) => void }) {
  const { t } = useI18n();
  const set = (i: number, patch: Partial<TemplateRow>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset className="field span-2 fieldset template-list">
      <legend>{t('channel.templates')}</legend>
      <p className="muted small">{t('channel.templatesHint')}</p>
      {rows.length === 0 && <p className="muted small">{t('channel.noTemplates')}</p>}
      {rows.map((r, i) => (
        <div key={i} className="template-row" data-template-index={i}>
          <input className="input input-sm mono" name={`template.${i}.name`} value={r.name} placeholder="order_update"
            aria-label={`${t('channel.templateName')} ${i + 1}`} onChange={(e) => set(i, { name: e.target.value })} />
          <input className="input input-sm mono template-lang" name={`template.${i}.language`} value={r.language} placeholder="es_MX"
            aria-label={`${t('channel.templateLanguage')} ${i + 1}`} onChange={(e) => set(i, { language: e.target.value })} />
          <textarea className="input template-body" name={`template.${i}.body`} rows={2} value={r.body} maxLength={1024}
            placeholder={t('channel.templateBody')} aria-label={`${t('channel.templateBody')} ${i + 1}`}
            onChange={(e) => set(i, { body: e.target.value })} />
          <button type="button" className="icon-btn" aria-label={t('channel.removeTemplate', { n: i + 1 })}
            onClick={() => onChange(rows.filter((_, j) => j !== i))}>×</button>
        </div>
      ))}
      <button type="button" className="btn btn-sm" onClick={() => onChange([...rows, emptyTemplate()])}>+ {t('channel.addTemplate')}</button>
    </fieldset>
  );
}
