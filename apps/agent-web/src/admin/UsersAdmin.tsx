import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import type { Invitation, Role } from '../api/types';
import { useI18n } from '../i18n/i18n';
import { Avatar } from '../ui/Avatar';
import { CopyButton } from '../ui/CopyButton';
import { useLoad } from './use-load';

const roles: Role[] = ['agent', 'supervisor', 'admin'];

/** The server may answer a path (`/app/#/invite/…`) or a full URL; agents need a full link. */
function absoluteUrl(url: string): string {
  try {
    return new URL(url, location.origin).toString();
  } catch {
    return url;
  }
}

export function UsersAdmin() {
  const { t, formatDateTime } = useI18n();
  const users = useLoad(() => api.users());
  const invitations = useLoad(() => api.invitations());
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('agent');
  const [created, setCreated] = useState<Invitation | null>(null);
  const [error, setError] = useState<string | null>(null);

  const invite = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const inv = await api.invite(email.trim(), role);
      setCreated(inv);
      setEmail('');
      invitations.reload();
    } catch (err) {
      setError(errorText(t, err));
    }
  };

  return (
    <div className="detail wide">
      <header className="section-header"><h2>{t('admin.users')}</h2></header>
      <section className="card">
        <h3>{t('users.invite')}</h3>
        <form className="inline-form" onSubmit={invite}>
          <input className="input input-sm grow" type="email" required value={email} onChange={(e) => setEmail(e.target.value)}
            placeholder={t('users.emailPlaceholder')} aria-label={t('login.email')} name="inviteEmail" />
          <select className="select select-sm" value={role} onChange={(e) => setRole(e.target.value as Role)} aria-label={t('users.role')}>
            {roles.map((r) => <option key={r} value={r}>{t(`role.${r}`)}</option>)}
          </select>
          <button className="btn btn-primary btn-sm" type="submit">{t('users.sendInvite')}</button>
        </form>
        {error && <p className="form-error">{error}</p>}
        {created && (
          <div className="secret-box" role="status">
            <div className="strong">{t('users.inviteCreated', { email: created.email })}</div>
            <div className="small">{t('users.inviteLinkHint')}</div>
            <div className="secret-row">
              <code className="mono secret-value" data-testid="accept-url">{absoluteUrl(created.acceptUrl)}</code>
              <CopyButton text={absoluteUrl(created.acceptUrl)} />
            </div>
          </div>
        )}
      </section>

      <section className="card flush">
        <table className="table">
          <thead><tr><th>{t('users.name')}</th><th>{t('login.email')}</th><th>{t('users.role')}</th><th>{t('users.since')}</th></tr></thead>
          <tbody>
            {(users.data?.items ?? []).map((u) => (
              <tr key={u.id}>
                <td><span className="row-gap"><Avatar name={u.name} size={24} /> {u.name}</span></td>
                <td>{u.email}</td>
                <td><span className="pill">{t(`role.${u.role}`)}</span></td>
                <td className="muted">{formatDateTime(u.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {users.error && <p className="form-error pad">{users.error}</p>}
      </section>

      <section className="card flush">
        <h3 className="pad">{t('users.pendingInvitations')}</h3>
        {(invitations.data?.items ?? []).length === 0 ? <p className="muted small pad">{t('users.noInvitations')}</p> : (
          <table className="table">
            <thead><tr><th>{t('login.email')}</th><th>{t('users.role')}</th><th>{t('users.expires')}</th><th>{t('users.link')}</th></tr></thead>
            <tbody>
              {(invitations.data?.items ?? []).map((i) => (
                <tr key={i.id}>
                  <td>{i.email}</td>
                  <td>{t(`role.${i.role}`)}</td>
                  <td className="muted">{formatDateTime(i.expiresAt)}</td>
                  <td>{i.acceptUrl ? <CopyButton text={absoluteUrl(i.acceptUrl)} label={t('users.copyLink')} /> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
