import { useState } from 'react';
import { errorText } from '../i18n/error-text';
import { useSession } from '../app/session';
import { useI18n } from '../i18n/i18n';
import { notificationPermission, requestNotificationPermission } from '../workspace/notifications';
import { ShortcutHelp } from '../workspace/ShortcutHelp';
import { Avatar } from '../ui/Avatar';
import { LocalePicker } from './LocalePicker';

export function SettingsPage() {
  const { t } = useI18n();
  const { session, setLocale, logout } = useSession();
  const [permission, setPermission] = useState(notificationPermission);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [help, setHelp] = useState(false);
  const user = session.user;

  return (
    <div className="page">
      <header className="page-header"><h1>{t('settings.title')}</h1></header>
      <div className="page-body narrow">
        <section className="card">
          <div className="account">
            <Avatar name={user.name} size={44} />
            <div>
              <div className="strong">{user.name}</div>
              <div className="muted small">{user.email} · {t(`role.${user.role}`)} · {session.tenant.name}</div>
            </div>
            <button type="button" className="btn btn-sm push-right" onClick={() => void logout()}>{t('settings.logout')}</button>
          </div>
        </section>
        <section className="card">
          <h2>{t('settings.language')}</h2>
          <p className="muted small">{t('settings.languageHint')}</p>
          <LocalePicker id="locale" value={user.locale} onChange={(l) => {
            setError(null);
            setSaved(false);
            setLocale(l).then(() => setSaved(true), (err) => setError(errorText(t, err)));
          }} />
          {saved && <span className="ok small"> {t('common.saved')}</span>}
          {error && <p className="form-error">{error}</p>}
        </section>
        <section className="card">
          <h2>{t('settings.notifications')}</h2>
          <p className="muted small">{t('settings.notificationsHint')}</p>
          {permission === 'granted' ? <p className="ok">{t('settings.notificationsOn')}</p>
            : permission === 'denied' ? <p className="form-error">{t('settings.notificationsDenied')}</p>
            : permission === 'unsupported' ? <p className="muted">{t('settings.notificationsUnsupported')}</p>
            : <button type="button" className="btn btn-primary btn-sm"
                onClick={() => void requestNotificationPermission().then(setPermission)}>{t('settings.enableNotifications')}</button>}
        </section>
        <section className="card">
          <h2>{t('shortcuts.title')}</h2>
          <button type="button" className="btn btn-sm" onClick={() => setHelp(true)}>{t('settings.showShortcuts')}</button>
        </section>
      </div>
      {help && <ShortcutHelp onClose={() => setHelp(false)} />}
    </div>
  );
}
