import { useEffect, useRef, useState, type FormEvent } from 'react';
import { errorText } from '../i18n/error-text';
import type { AgentState, SettableAgentState } from '../api/types';
import { useI18n, type MessageKey } from '../i18n/i18n';
import { Icon } from '../ui/Icon';
import { useWorkspace } from '../workspace/workspace-store';
import { formatElapsed } from './time-format';
import { useNow } from './use-now';

export const stateLabel: Record<AgentState, MessageKey> = {
  available: 'agentState.available',
  busy: 'agentState.busy',
  away: 'agentState.away',
  'not-ready': 'agentState.notReady',
  'wrap-up': 'agentState.wrapUp',
  offline: 'agentState.offline',
};

/** Not-ready reasons offered in one click; any other is typed in. */
const presetReasons: MessageKey[] = ['agentState.reason.break', 'agentState.reason.lunch', 'agentState.reason.meeting', 'agentState.reason.training'];

const choices: SettableAgentState[] = ['available', 'busy', 'away'];

/** The agent's own routing state (CC-5) in the shell header, with the time spent in it. */
export function AgentStateMenu() {
  const { t } = useI18n();
  const { state, setMyState, routingAvailable } = useWorkspace();
  const agent = state.agent;
  const now = useNow(1000, agent !== null);
  const [open, setOpen] = useState(false);
  const [custom, setCustom] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const root = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    window.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      window.removeEventListener('keydown', onKey);
    };
  }, [open]);

  if (!routingAvailable || !agent) return null;

  const choose = async (next: SettableAgentState, reason?: string) => {
    setError(null);
    setBusy(true);
    try {
      await setMyState(next, reason);
      setOpen(false);
      setCustom('');
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      setBusy(false);
    }
  };

  const submitCustom = (e: FormEvent) => {
    e.preventDefault();
    const reason = custom.trim();
    if (reason) void choose('not-ready', reason);
  };

  const label = agent.state === 'not-ready' && agent.reason ? `${t(stateLabel[agent.state])} · ${agent.reason}` : t(stateLabel[agent.state]);
  // A state without a known start (the server answers the epoch for an agent who never changed state) shows no timer.
  const since = Date.parse(agent.since);
  const elapsed = Number.isFinite(since) && since > Date.UTC(2001, 0, 1) ? formatElapsed(now - since) : null;

  return (
    <div className="state-menu" ref={root}>
      <button type="button" className={`state-button state-${agent.state}`} aria-haspopup="menu" aria-expanded={open}
        onClick={() => setOpen((v) => !v)} data-state={agent.state} title={t('agentState.change')}>
        <span className="state-dot" />
        <span className="state-label">{label}</span>
        {elapsed !== null && <span className="state-time mono" aria-label={t('agentState.timeInState', { time: elapsed })}>{elapsed}</span>}
        <Icon name="chevronDown" size={14} />
      </button>
      {open && (
        <div className="state-popup" role="menu" aria-label={t('agentState.change')}>
          {choices.map((s) => (
            <button key={s} type="button" role="menuitemradio" aria-checked={agent.state === s} disabled={busy}
              className={`state-option state-${s}`} data-choice={s} onClick={() => void choose(s)}>
              <span className="state-dot" />{t(stateLabel[s])}
              {agent.state === s && <Icon name="check" size={14} className="push-right" />}
            </button>
          ))}
          <div className="state-group">{t('agentState.notReady')}</div>
          {presetReasons.map((key) => {
            const reason = t(key);
            const current = agent.state === 'not-ready' && agent.reason === reason;
            return (
              <button key={key} type="button" role="menuitemradio" aria-checked={current} disabled={busy}
                className="state-option state-not-ready indent" data-choice="not-ready" onClick={() => void choose('not-ready', reason)}>
                <span className="state-dot" />{reason}
                {current && <Icon name="check" size={14} className="push-right" />}
              </button>
            );
          })}
          <form className="state-custom" onSubmit={submitCustom}>
            <input className="input input-sm" value={custom} maxLength={100} onChange={(e) => setCustom(e.target.value)}
              placeholder={t('agentState.customReason')} aria-label={t('agentState.customReason')} name="customReason" />
            <button type="submit" className="btn btn-sm" disabled={busy || !custom.trim()}>{t('agentState.set')}</button>
          </form>
          <div className="state-sep" />
          <button type="button" role="menuitemradio" aria-checked={agent.state === 'offline'} disabled={busy}
            className="state-option state-offline" data-choice="offline" onClick={() => void choose('offline')}>
            <span className="state-dot" />{t('agentState.offline')}
            {agent.state === 'offline' && <Icon name="check" size={14} className="push-right" />}
          </button>
          {agent.state === 'wrap-up' && <p className="muted small state-note">{t('agentState.wrapUpHint')}</p>}
          {error && <p className="form-error state-note" role="alert">{error}</p>}
        </div>
      )}
    </div>
  );
}
