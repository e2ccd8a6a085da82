import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import { AGENT_STATES, CHANNELS, type AgentState, type Wallboard } from '../api/types';
import { useSession } from '../app/session';
import { useI18n } from '../i18n/i18n';
import { Avatar } from '../ui/Avatar';
import { useWorkspace } from '../workspace/workspace-store';
import { stateLabel } from './AgentStateMenu';
import { channelLabel } from './OfferStack';
import { formatElapsed } from './time-format';
import { useNow } from './use-now';

const POLL_MS = 5000;

/** Live wallboard for supervisors and admins (CC-8): queues and agents, refreshed by events and polling. */
export function WallboardPage() {
  const { t } = useI18n();
  const { session } = useSession();
  const { subscribe, status } = useWorkspace();
  const [board, setBoard] = useState<Wallboard | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Server time minus local time, so ticking waits and durations do not drift with a wrong local clock.
  const [skew, setSkew] = useState(0);
  const now = useNow(1000) + skew;
  const allowed = session.user.role === 'admin' || session.user.role === 'supervisor';
  const inFlight = useRef(false);
  const again = useRef(false);

  const load = useCallback(async () => {
    if (inFlight.current) {
      again.current = true;
      return;
    }
    inFlight.current = true;
    try {
      const sentAt = Date.now();
      const b = await api.wallboard();
      const receivedAt = Date.now();
      setSkew(Date.parse(b.generatedAt) - (sentAt + receivedAt) / 2);
      setBoard(b);
      setError(null);
    } catch (err) {
      setError(errorText(t, err));
    } finally {
      inFlight.current = false;
      if (again.current) {
        again.current = false;
        void loadRef.current();
      }
    }
  }, []);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    if (!allowed) return;
    void load();
    const timer = setInterval(() => void load(), POLL_MS);
    let soon: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = subscribe((ev) => {
      if (!ev.type.startsWith('routing.') && ev.type !== 'agent.state_changed' && ev.type !== 'conversation.updated') return;
      // A burst of events (an arrival makes several) is one refetch.
      if (soon) return;
      soon = setTimeout(() => {
        soon = null;
        void load();
      }, 300);
    });
    return () => {
      clearInterval(timer);
      if (soon) clearTimeout(soon);
      unsubscribe();
    };
  }, [allowed, load, subscribe]);

  if (!allowed) {
    return <div className="page"><div className="page-body"><p className="form-error">{t('wallboard.forbidden')}</p></div></div>;
  }

  const generatedAt = board ? Date.parse(board.generatedAt) : now;
  const sinceBoard = Math.max(0, now - generatedAt);

  return (
    <div className="page wallboard">
      <header className="page-header wallboard-header">
        <h1>{t('wallboard.title')}</h1>
        <span className={`live-pill${status === 'online' ? ' on' : ''}`}>{status === 'online' ? t('wallboard.live') : t('wallboard.polling')}</span>
        {error && <span className="form-error">{error}</span>}
      </header>
      <div className="page-body">
        {!board ? <p className="muted">{t('common.loading')}</p> : (
          <>
            <section className="wb-queues" aria-label={t('wallboard.queues')}>
              {board.queues.length === 0 && <p className="muted">{t('wallboard.noQueues')}</p>}
              {board.queues.map((q) => {
                const longest = q.waiting > 0 ? q.longestWaitSeconds * 1000 + sinceBoard : 0;
                const sl = q.serviceLevelPercent;
                const slClass = sl === null ? '' : sl >= 80 ? ' good' : sl >= 60 ? ' warn' : ' bad';
                const members = AGENT_STATES.reduce((n, s) => n + (q.agentsByState[s] ?? 0), 0);
                return (
                  <article key={q.id} className="card wb-queue" data-queue-id={q.id} data-queue-name={q.name}>
                    <header className="wb-queue-head">
                      <h2>{q.name}</h2>
                      <span className="muted small">{t('wallboard.members', { count: members })}</span>
                    </header>
                    <div className="wb-stats">
                      <Stat label={t('wallboard.waiting')} value={q.waiting} name="waiting" tone={q.waiting > 0 ? 'warn' : undefined} />
                      <Stat label={t('wallboard.longestWait')} value={formatElapsed(longest)} name="longest-wait" />
                      <Stat label={t('wallboard.offeredNow')} value={q.offered} name="offered-now" />
                      <Stat label={t('wallboard.serviceLevel', { seconds: q.serviceLevelTargetSeconds })}
                        value={sl === null ? '—' : `${Math.round(sl)}%`} name="service-level" className={slClass} />
                    </div>
                    <div className="wb-today">
                      <span className="muted small">{t('wallboard.today')}</span>
                      <span data-stat="offered">{t('wallboard.offered')} <b>{q.today.offered}</b></span>
                      <span data-stat="answered">{t('wallboard.answered')} <b>{q.today.answered}</b></span>
                      <span data-stat="abandoned">{t('wallboard.abandoned')} <b>{q.today.abandoned}</b></span>
                    </div>
                    <StateBar counts={q.agentsByState} />
                  </article>
                );
              })}
            </section>

            <section className="card flush wb-agents">
              <h2 className="pad">{t('wallboard.agents')}</h2>
              <table className="table">
                <thead>
                  <tr>
                    <th>{t('wallboard.agent')}</th><th>{t('wallboard.state')}</th><th>{t('wallboard.timeInState')}</th><th>{t('wallboard.load')}</th>
                  </tr>
                </thead>
                <tbody>
                  {board.agents.map((a) => (
                    <tr key={a.userId} data-agent-id={a.userId} data-agent-name={a.name}>
                      <td>
                        <span className="row-gap">
                          <Avatar name={a.name} size={24} />{a.name}
                          {!a.connected && <span className="muted small" title={t('wallboard.disconnected')}>({t('wallboard.disconnected')})</span>}
                        </span>
                      </td>
                      <td>
                        <span className={`state-pill state-${a.state}`} data-state={a.state}>
                          <span className="state-dot" />{t(stateLabel[a.state])}{a.reason ? ` · ${a.reason}` : ''}
                        </span>
                      </td>
                      <td className="mono" data-since={a.since}>
                        {Date.parse(a.since) > Date.UTC(2001, 0, 1) ? formatElapsed(a.secondsInState * 1000 + sinceBoard) : '—'}
                      </td>
                      <td>
                        <span className="load-list">
                          {CHANNELS.filter((c) => (a.capacity[c] ?? 0) > 0 || (a.load[c] ?? 0) > 0).map((c) => {
                            const load = a.load[c] ?? 0;
                            const cap = a.capacity[c] ?? 0;
                            return (
                              <span key={c} className={`load${load >= cap && cap > 0 ? ' full' : ''}`} data-channel={c} title={t(channelLabel[c] ?? 'channel.task')}>
                                {t(channelLabel[c] ?? 'channel.task')} <b>{load}/{cap}</b>
                              </span>
                            );
                          })}
                        </span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          </>
        )}
      </div>
    </div>
  );
}

function Stat({ label, value, name, tone, className }: { label: string; value: string | number; name: string; tone?: 'warn'; className?: string }) {
  return (
    <div className={`wb-stat${tone ? ` ${tone}` : ''}${className ?? ''}`} data-stat={name}>
      <div className="wb-value">{value}</div>
      <div className="wb-label">{label}</div>
    </div>
  );
}

const barOrder: AgentState[] = ['available', 'busy', 'wrap-up', 'not-ready', 'away', 'offline'];

function StateBar({ counts }: { counts: Partial<Record<AgentState, number>> }) {
  const { t } = useI18n();
  const total = barOrder.reduce((n, s) => n + (counts[s] ?? 0), 0);
  return (
    <div className="wb-states">
      <div className="state-bar" aria-hidden="true">
        {total > 0 && barOrder.map((s) => (counts[s] ?? 0) > 0 && (
          <span key={s} className={`state-${s}`} style={{ flexGrow: counts[s] }} />
        ))}
      </div>
      <div className="state-legend small">
        {barOrder.filter((s) => (counts[s] ?? 0) > 0).map((s) => (
          <span key={s} className={`state-${s}`} data-state-count={s}><span className="state-dot" />{t(stateLabel[s])} {counts[s]}</span>
        ))}
        {total === 0 && <span className="muted">{t('wallboard.noMembers')}</span>}
      </div>
    </div>
  );
}
