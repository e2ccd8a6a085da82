import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api/client';
import type { Locale, Session } from '../api/types';
import { useI18n } from '../i18n/i18n';
import { LocalePicker } from '../settings/LocalePicker';

export function LoginPage({ onLoggedIn, onLocale }: { onLoggedIn: (s: Session) => void; onLocale: (l: Locale) => void }) {
  const { t, locale } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLoggedIn(await api.login(email.trim(), password));
    } catch (err) {
      setError(err instanceof ApiError && (err.status === 401 || err.status === 400) ? t('login.invalid') : t('error.generic'));
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
        <h1>{t('login.title')}</h1>
        <label className="field">
          <span>{t('login.email')}</span>
          <input type="email" name="email" autoComplete="username" required autoFocus value={email}
            onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('login.password')}</span>
          <input type="password" name="password" autoComplete="current-password" required value={password}
            onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error && <div className="form-error" role="alert">{error}</div>}
        <button className="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? t('login.signingIn') : t('login.submit')}
        </button>
        <div className="auth-footer">
          <LocalePicker value={locale} onChange={onLocale} />
        </div>
      </form>
    </div>
  );
}
