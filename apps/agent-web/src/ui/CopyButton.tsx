import { useState } from 'react';
import { useI18n } from '../i18n/i18n';
import { Icon } from './Icon';

async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  // Plain-http installs have no async clipboard: fall back to a hidden textarea.
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.append(ta);
  ta.select();
  document.execCommand('copy');
  ta.remove();
}

export function CopyButton({ text, label }: { text: string; label?: string }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  return (
    <button type="button" className="btn btn-sm" onClick={() => {
      copyText(text).then(() => {
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      }, () => undefined);
    }}>
      <Icon name={copied ? 'check' : 'copy'} size={14} /> {copied ? t('common.copied') : label ?? t('common.copy')}
    </button>
  );
}

/** A value shown once (API key, webhook secret) with a copy button. */
export function SecretBox({ title, value, hint }: { title: string; value: string; hint?: string }) {
  return (
    <div className="secret-box" role="status">
      <div className="strong">{title}</div>
      {hint && <div className="small">{hint}</div>}
      <div className="secret-row">
        <code className="mono secret-value">{value}</code>
        <CopyButton text={value} />
      </div>
    </div>
  );
}
