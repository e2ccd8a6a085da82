import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import type { Locale, Session } from '../api/types';
import { useI18n } from '../i18n/i18n';
import { errorText } from '../i18n/error-text';
import { LocalePicker } from '../settings/LocalePicker';

const MIN_PASSWORD = 8;

export function InvitePage({ token, onAccepted, onLocale }: {
  token: string; onAccepted: (s: Session) => void; onLocale: (l: Locale) => void;
}) {
  const { t, locale } = useI18n();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (password.length < MIN_PASSWORD) return setError(t('invite.passwordTooShort', { min: MIN_PASSWORD }));
    if (password !== confirm) return setError(t('invite.passwordMismatch'));
    setBusy(true);
    setError(null);
    try {
      onAccepted(await api.acceptInvitation(token, name.trim(), password));
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 410)) setError(t('invite.invalid'));
      else setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-page">
      <form className="auth-card" onSubmit={submit}>
        <div className="auth-brand">
          <span className="logo-mark" aria-hidden="true">P</span>
          <span>Parley</span>
        </div>
        <h1>{t('invite.title')}</h1>
        <p className="muted">{t('invite.subtitle')}</p>
        <label className="field">
          <span>{t('invite.name')}</span>
          <input name="name" autoComplete="name" required autoFocus value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('login.password')}</span>
          <input type="password" name="password" autoComplete="new-password" required value={password}
            onChange={(e) => setPassword(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('invite.confirmPassword')}</span>
          <input type="password" name="confirm" autoComplete="new-password" required value={confirm}
            onChange={(e) => setConfirm(e.target.value)} />
        </label>
        {error && <div className="form-error" role="alert">{error}</div>}
        <button className="btn btn-primary btn-block" type="submit" disabled={busy}>{t('invite.submit')}</button>
        <div className="auth-footer">
          <LocalePicker value={locale} onChange={onLocale} />
        </div>
      </form>
    </div>
  );
}
