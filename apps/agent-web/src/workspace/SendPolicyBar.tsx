import { useState } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import type { Message, SendPolicy, WhatsAppTemplate } from '../api/types';
import { fillTemplate, templateParameters, templateParameterValues, windowRemaining, type ComposerPolicyView } from '../composer/send-policy';
import { useI18n } from '../i18n/i18n';
import { Icon } from '../ui/Icon';

/** Why the composer cannot send free text here, or how long it still can. */
export function SendPolicyNotice({ policy, view }: { policy: SendPolicy; view: ComposerPolicyView }) {
  const { t, locale, formatDateTime } = useI18n();
  if (view.windowRemainingMs !== null && policy.windowClosesAt) {
    const { value, unit } = windowRemaining(view.windowRemainingMs);
    const time = new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'short' }).format(value);
    return (
      <div className="policy-window muted small" data-testid="send-window" title={t('policy.windowOpenTitle', { when: formatDateTime(policy.windowClosesAt) })}>
        <Icon name="clock" size={13} /> {t('policy.windowOpen', { time })}
      </div>
    );
  }
  if (!view.notice) return null;
  return (
    <div className={`policy-notice ${view.notice.tone}`} role="status" data-testid="send-policy" data-reason={policy.reason ?? ''}>
      <Icon name={view.notice.tone === 'blocked' ? 'alert' : 'clock'} size={15} />
      <span>
        {t(view.notice.key)}
        {view.notice.tone === 'templates' && policy.windowClosesAt && <> {t('policy.windowClosedAt', { when: formatDateTime(policy.windowClosesAt) })}</>}
        {' '}<span className="muted">{t('policy.notesStill')}</span>
      </span>
    </div>
  );
}

/** Picks an approved template, fills its `{{n}}` parameters with a live preview, sends it. */
export function TemplatePicker({ conversationId, templates, onSent }: {
  conversationId: string;
  templates: WhatsAppTemplate[];
  onSent: (message: Message) => void;
}) {
  const { t } = useI18n();
  const [index, setIndex] = useState(0);
  const [values, setValues] = useState<Record<number, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);
  const template = templates[Math.min(index, templates.length - 1)];
  if (!template) return null;
  const params = templateParameters(template.body);
  const parameters = templateParameterValues(template, values);

  const send = async () => {
    if (!parameters) {
      setError(t('template.missing'));
      return;
    }
    setSending(true);
    setError(null);
    try {
      onSent(await api.sendTemplate(conversationId, { name: template.name, language: template.language, parameters }));
      setValues({});
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setSending(false);
    }
  };

  return (
    <div className="template-picker" data-testid="template-picker">
      <div className="template-picker-row">
        <label className="field compact">
          <span>{t('template.choose')}</span>
          <select className="select select-sm" name="template" value={index} onChange={(e) => { setIndex(Number(e.target.value)); setValues({}); setError(null); }}>
            {templates.map((x, i) => <option key={`${x.name}/${x.language}`} value={i}>{x.name} · {x.language}</option>)}
          </select>
        </label>
        {params.map((n) => (
          <label key={n} className="field compact">
            <span>{t('template.parameter', { n })}</span>
            <input className="input input-sm" name={`param-${n}`} value={values[n] ?? ''} maxLength={1000}
              onChange={(e) => setValues({ ...values, [n]: e.target.value })} />
          </label>
        ))}
      </div>
      <div className="template-preview" aria-label={t('template.preview')} data-testid="template-preview">{fillTemplate(template.body, values)}</div>
      <div className="composer-bar">
        {error && <span className="form-error inline" role="alert">{error}</span>}
        <button type="button" className="btn btn-sm btn-primary" onClick={() => void send()} disabled={sending || !parameters}>
          <Icon name="send" size={14} /> {t('template.send')}
        </button>
      </div>
    </div>
  );
}
