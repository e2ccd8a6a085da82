import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import type { ApiKey } from '../api/types';
import { useI18n } from '../i18n/i18n';
import { SecretBox } from '../ui/CopyButton';
import { useLoad } from './use-load';

export function ApiKeysAdmin() {
  const { t, formatDateTime } = useI18n();
  const { data, error, reload } = useLoad(() => api.apiKeys());
  const [name, setName] = useState('');
  const [created, setCreated] = useState<ApiKey | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setActionError(null);
    try {
      setCreated(await api.createApiKey(name.trim()));
      setName('');
      reload();
    } catch (err) {
      setActionError(errorText(t, err));
    }
  };

  const revoke = async (key: ApiKey) => {
    if (!window.confirm(t('apiKeys.confirmRevoke', { name: key.name }))) return;
    setActionError(null);
    try {
      await api.revokeApiKey(key.id);
      if (created?.id === key.id) setCreated(null);
      reload();
    } catch (err) {
      setActionError(errorText(t, err));
    }
  };

  return (
    <div className="detail wide">
      <header className="section-header"><h2>{t('admin.apiKeys')}</h2></header>
      <section className="card">
        <p className="muted small">{t('apiKeys.hint')}</p>
        <form className="inline-form" onSubmit={create}>
          <input className="input input-sm grow" required value={name} onChange={(e) => setName(e.target.value)}
            placeholder={t('apiKeys.namePlaceholder')} aria-label={t('apiKeys.name')} maxLength={80} />
          <button className="btn btn-primary btn-sm" type="submit">{t('apiKeys.create')}</button>
        </form>
        {created?.key && <SecretBox title={t('apiKeys.created', { name: created.name })} hint={t('common.shownOnce')} value={created.key} />}
        {(actionError || error) && <p className="form-error">{actionError ?? error}</p>}
      </section>
      <section className="card flush">
        {(data?.items ?? []).length === 0 ? <p className="muted small pad">{t('apiKeys.none')}</p> : (
          <table className="table">
            <thead><tr><th>{t('apiKeys.name')}</th><th>{t('users.since')}</th><th /></tr></thead>
            <tbody>
              {(data?.items ?? []).map((k) => (
                <tr key={k.id}>
                  <td className="strong">{k.name}</td>
                  <td className="muted">{formatDateTime(k.createdAt)}</td>
                  <td className="right"><button type="button" className="btn btn-sm btn-danger" onClick={() => void revoke(k)}>{t('apiKeys.revoke')}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
