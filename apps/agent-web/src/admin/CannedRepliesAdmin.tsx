import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import type { CannedReply } from '../api/types';
import { useI18n } from '../i18n/i18n';
import { useWorkspace } from '../workspace/workspace-store';
import { useLoad } from './use-load';

export function CannedRepliesAdmin() {
  const { t } = useI18n();
  const { reloadCannedReplies } = useWorkspace();
  const { data, error, reload } = useLoad(() => api.cannedReplies());
  const [shortCode, setShortCode] = useState('');
  const [content, setContent] = useState('');
  const [editing, setEditing] = useState<CannedReply | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  const changed = () => {
    reload();
    reloadCannedReplies();
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setActionError(null);
    try {
      await api.createCannedReply({ shortCode: shortCode.trim().replace(/^\//, ''), content });
      setShortCode('');
      setContent('');
      changed();
    } catch (err) {
      setActionError(errorText(t, err));
    }
  };

  const saveEdit = async (e: FormEvent) => {
    e.preventDefault();
    if (!editing) return;
    try {
      await api.updateCannedReply(editing.id, { shortCode: editing.shortCode, content: editing.content });
      setEditing(null);
      changed();
    } catch (err) {
      setActionError(errorText(t, err));
    }
  };

  const remove = async (r: CannedReply) => {
    if (!window.confirm(t('canned.confirmDelete', { code: r.shortCode }))) return;
    try {
      await api.deleteCannedReply(r.id);
      changed();
    } catch (err) {
      setActionError(errorText(t, err));
    }
  };

  return (
    <div className="detail wide">
      <header className="section-header"><h2>{t('admin.cannedReplies')}</h2></header>
      <section className="card">
        <form onSubmit={create} className="stack">
          <div className="form-grid">
            <label className="field">
              <span>{t('canned.shortCode')}</span>
              <input className="input" required value={shortCode} onChange={(e) => setShortCode(e.target.value)} placeholder="greeting"
                pattern="/?[\w.\-]+" maxLength={40} />
            </label>
          </div>
          <label className="field">
            <span>{t('canned.content')}</span>
            <textarea className="input" rows={3} required value={content} onChange={(e) => setContent(e.target.value)}
              placeholder={t('canned.contentPlaceholder')} />
            <span className="muted small">{t('canned.tagsHint')} <code>{'{{contact.name}}'}</code> <code>{'{{contact.email}}'}</code> <code>{'{{agent.name}}'}</code></span>
          </label>
          <div><button type="submit" className="btn btn-primary btn-sm">{t('canned.create')}</button></div>
        </form>
        {(actionError || error) && <p className="form-error">{actionError ?? error}</p>}
      </section>
      <section className="card flush">
        {(data?.items ?? []).length === 0 ? <p className="muted small pad">{t('canned.none')}</p> : (
          <table className="table">
            <thead><tr><th>{t('canned.shortCode')}</th><th>{t('canned.content')}</th><th /></tr></thead>
            <tbody>
              {(data?.items ?? []).map((r) => (
                editing?.id === r.id ? (
                  <tr key={r.id}>
                    <td colSpan={3}>
                      <form onSubmit={saveEdit} className="stack">
                        <input className="input input-sm" value={editing.shortCode} aria-label={t('canned.shortCode')}
                          onChange={(e) => setEditing({ ...editing, shortCode: e.target.value })} />
                        <textarea className="input" rows={3} value={editing.content} aria-label={t('canned.content')}
                          onChange={(e) => setEditing({ ...editing, content: e.target.value })} />
                        <div className="row-gap">
                          <button type="submit" className="btn btn-primary btn-sm">{t('common.save')}</button>
                          <button type="button" className="btn btn-sm" onClick={() => setEditing(null)}>{t('common.cancel')}</button>
                        </div>
                      </form>
                    </td>
                  </tr>
                ) : (
                  <tr key={r.id}>
                    <td className="mono strong nowrap">/{r.shortCode}</td>
                    <td className="pre-wrap">{r.content}</td>
                    <td className="right nowrap">
                      <button type="button" className="btn btn-sm" onClick={() => setEditing(r)}>{t('common.edit')}</button>{' '}
                      <button type="button" className="btn btn-sm btn-danger" onClick={() => void remove(r)}>{t('common.delete')}</button>
                    </td>
                  </tr>
                )
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}
