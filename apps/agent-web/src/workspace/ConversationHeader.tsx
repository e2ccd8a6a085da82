import { useEffect, useState, type FormEvent } from 'react';
import type { Conversation, ConversationStatus } from '../api/types';
import { useSession } from '../app/session';
import { useI18n } from '../i18n/i18n';
import { ChannelIcon } from '../ui/ChannelIcon';
import { Icon } from '../ui/Icon';
import { SlaBadges } from '../routing/SlaBadge';
import { stateLabel } from '../routing/AgentStateMenu';
import { errorText } from '../i18n/error-text';
import { runningClocks } from '../routing/sla-view';
import { useNow } from '../routing/use-now';
import { priorityKey } from './ConversationList';
import { snoozeUntil, type SnoozeChoice } from './snooze';
import { contactDisplayName, userName, useWorkspace } from './workspace-store';

const PRIORITIES = [0, 1, 2, 3, 4];

export function ConversationHeader({ conversation: c }: { conversation: Conversation }) {
  const { t, formatDateTime } = useI18n();
  const { session } = useSession();
  const { users, inboxes, labels, updateConversation, transferConversation, takeConversation, reloadLabels, state, queues, requestRouting, routingAvailable } = useWorkspace();
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [labelDraft, setLabelDraft] = useState('');
  const [addingLabel, setAddingLabel] = useState(false);
  const me = session.user;
  const inbox = inboxes.find((i) => i.id === c.inboxId);
  const routing = state.routing[c.id];
  const queue = routing?.queueId ? queues.find((q) => q.id === routing.queueId) : undefined;
  const clocks = runningClocks(routing?.sla, c);
  const now = useNow(1000, clocks.length > 0);

  // Another conversation: the last one's notice or refusal is not about it.
  useEffect(() => {
    setNotice(null);
    setError(null);
  }, [c.id]);

  // Fresh routing details (queue, SLA clocks) whenever the conversation is opened.
  useEffect(() => {
    if (routingAvailable) requestRouting([c.id], true);
  }, [c.id, requestRouting, routingAvailable]);

  const patch = (p: Parameters<typeof updateConversation>[1]) => {
    setError(null);
    updateConversation(c.id, p).catch((err) => setError(errorText(t, err)));
  };

  const setStatus = (status: ConversationStatus) => patch({ status });

  // Routing knows who is working: the transfer menu says each agent's state, so work goes to someone who can take it.
  // Within the grace period after closing the app an agent keeps their state, but a transfer needs them there.
  const canReceive = (id: string) => state.agentStates[id] !== 'offline' && state.agentsConnected[id] !== false;
  const withState = (id: string, name: string) => {
    const s = state.agentStates[id];
    if (!s) return name;
    const label = t(stateLabel[s]);
    return t('action.withState', { name, state: s === 'offline' || canReceive(id) ? label : `${label} · ${t('action.notConnected')}` });
  };
  // Routing holds this conversation: the server assigns it the routed way (a force-assign), which
  // refuses agents who are offline, so the assignee menu says each one's state and offers them no work.
  const routed = routingAvailable && !!routing?.state;
  const assigneeLabel = (id: string, name: string) => {
    const s = state.agentStates[id];
    return routed && s ? t('action.withState', { name, state: t(stateLabel[s]) }) : name;
  };
  // Agents hand on their own conversations; supervisors and admins any (the server checks it too).
  const canTransfer = routingAvailable && c.status === 'open' && (me.role !== 'agent' || c.assigneeId === me.id);
  const transfer = (choice: string) => {
    const [kind, id] = [choice.slice(0, choice.indexOf(':')), choice.slice(choice.indexOf(':') + 1)];
    if (!id) return;
    const name = kind === 'queue' ? queues.find((q) => q.id === id)?.name : userName(users, id);
    setError(null);
    setNotice(null);
    transferConversation(c.id, kind === 'queue' ? { queueId: id } : { agentId: id }).then(
      () => setNotice(t('action.transferred', { name: name ?? id })),
      (err) => setError(errorText(t, err)),
    );
  };

  const addLabel = (e: FormEvent) => {
    e.preventDefault();
    const label = labelDraft.trim();
    setLabelDraft('');
    setAddingLabel(false);
    if (!label || c.labels.includes(label)) return;
    setError(null);
    updateConversation(c.id, { labels: [...c.labels, label] }).then(reloadLabels, (err) => setError(errorText(t, err)));
  };

  return (
    <header className="conv-header">
      <div className="conv-header-row">
        <div className="conv-title">
          <h2><ChannelIcon channel={c.channelType ?? inbox?.channelType} size={16} /> {contactDisplayName(c.contact, t('contact.anonymous'))}</h2>
          <div className="conv-sub">
            {inbox && <span className="inbox-tag"><span className="dot" style={{ background: inbox.settings.color }} />{inbox.name}</span>}
            <span className={`pill pill-${c.status}`} data-status={c.status}>{t(`status.${c.status}`)}</span>
            {c.status === 'snoozed' && c.snoozedUntil && (
              <span className="muted small">{t('action.snoozedUntil', { when: formatDateTime(c.snoozedUntil) })}</span>
            )}
            {(routing?.state === 'waiting' || routing?.state === 'offered') && (
              <span className="pill pill-waiting" data-routing={routing.state}>
                {queue ? t('routing.waitingIn', { queue: queue.name }) : t('routing.waiting')}
              </span>
            )}
            <SlaBadges clocks={clocks} now={now} />
          </div>
        </div>
        <div className="conv-actions">
          {c.assigneeId !== me.id && (
            <button type="button" className="btn btn-sm" data-testid="take" title={`${t('action.assignMe')} (a)`}
              onClick={() => {
                setError(null);
                takeConversation(c.id).catch((err) => setError(errorText(t, err)));
              }}>
              <Icon name="user" size={15} /> {t('action.assignMe')}
            </button>
          )}
          <select className="select select-sm" aria-label={t('action.assignee')} value={c.assigneeId ?? ''}
            onChange={(e) => patch({ assigneeId: e.target.value || null })}>
            <option value="">{t('action.unassigned')}</option>
            {users.map((u) => (
              <option key={u.id} value={u.id} disabled={routed && u.id !== c.assigneeId && state.agentStates[u.id] === 'offline'}>
                {assigneeLabel(u.id, u.id === me.id ? t('action.meName', { name: u.name }) : u.name)}
              </option>
            ))}
          </select>
          {canTransfer && (
            <select className="select select-sm select-transfer" aria-label={t('action.transfer')} value="" data-testid="transfer" onChange={(e) => transfer(e.target.value)}>
              <option value="">{t('action.transfer')}</option>
              {queues.length > 0 && (
                <optgroup label={t('action.transferToQueue')}>
                  {queues.map((q) => <option key={q.id} value={`queue:${q.id}`}>{q.name}</option>)}
                </optgroup>
              )}
              <optgroup label={t('action.transferToAgent')}>
                {users.filter((u) => u.id !== c.assigneeId).map((u) => (
                  <option key={u.id} value={`agent:${u.id}`} disabled={!canReceive(u.id)}>{withState(u.id, u.name)}</option>
                ))}
              </optgroup>
            </select>
          )}
          <select className="select select-sm" aria-label={t('action.priority')} value={String(c.priority)}
            onChange={(e) => patch({ priority: Number(e.target.value) })}>
            {PRIORITIES.map((p) => <option key={p} value={p}>{t('action.priorityOption', { name: t(priorityKey(p)) })}</option>)}
          </select>
          <select className="select select-sm" aria-label={t('action.status')} value=""
            onChange={(e) => {
              const v = e.target.value;
              if (v === 'open' || v === 'pending') setStatus(v);
              else if (v) patch({ status: 'snoozed', snoozedUntil: snoozeUntil(v as SnoozeChoice).toISOString() });
            }}>
            <option value="">{t('action.moreStatus')}</option>
            {c.status !== 'open' && <option value="open">{t('action.markOpen')}</option>}
            {c.status !== 'pending' && <option value="pending">{t('action.markPending')}</option>}
            <optgroup label={t('action.snooze')}>
              <option value="snooze1h">{t('action.snooze1h')}</option>
              <option value="snoozeTomorrow">{t('action.snoozeTomorrow')}</option>
              <option value="snoozeNextWeek">{t('action.snoozeNextWeek')}</option>
            </optgroup>
          </select>
          {c.status === 'resolved' ? (
            <button type="button" className="btn btn-sm" onClick={() => setStatus('open')}>{t('action.reopen')}</button>
          ) : (
            <button type="button" className="btn btn-sm btn-success" onClick={() => setStatus('resolved')} title={`${t('action.resolve')} (e)`}>
              <Icon name="check" size={15} /> {t('action.resolve')}
            </button>
          )}
        </div>
      </div>
      <div className="conv-labels">
        <Icon name="tag" size={13} className="muted" />
        {c.labels.map((l) => (
          <span key={l} className="label-chip">
            {l}
            <button type="button" aria-label={t('action.removeLabel', { label: l })}
              onClick={() => patch({ labels: c.labels.filter((x) => x !== l) })}><Icon name="x" size={11} /></button>
          </span>
        ))}
        {addingLabel ? (
          <form onSubmit={addLabel} className="label-form">
            <input className="input input-xs" list="label-options" autoFocus value={labelDraft} placeholder={t('action.labelPlaceholder')}
              aria-label={t('action.addLabel')} onChange={(e) => setLabelDraft(e.target.value)}
              onBlur={() => { if (!labelDraft.trim()) setAddingLabel(false); }} maxLength={50} />
            <datalist id="label-options">
              {labels.filter((l) => !c.labels.includes(l)).map((l) => <option key={l} value={l} />)}
            </datalist>
          </form>
        ) : (
          <button type="button" className="link-btn small" onClick={() => setAddingLabel(true)}>+ {t('action.addLabel')}</button>
        )}
        {error && <span className="form-error inline" role="alert">{error}</span>}
        {notice && !error && <span className="muted small" role="status">{notice}</span>}
      </div>
    </header>
  );
}
