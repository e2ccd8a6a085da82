import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import { CHANNELS, STRATEGIES, WEEKDAYS, type Queue, type TimeInterval, type User } from '../api/types';
import { navigate, routeHref } from '../app/hash-route';
import { useI18n, type MessageKey, type Translate } from '../i18n/i18n';
import { channelLabel } from '../routing/OfferStack';
import { Icon } from '../ui/Icon';
import { useWorkspace } from '../workspace/workspace-store';
import {
  emptyQueueForm, formFromQueue, queueInputFromForm, type EscalationForm, type ExitForm, type FormError, type QueueForm,
} from './queue-form';
import { useLoad } from './use-load';

const strategyLabel: Record<(typeof STRATEGIES)[number], MessageKey> = {
  'longest-idle': 'queues.strategy.longestIdle',
  'least-occupied': 'queues.strategy.leastOccupied',
  'round-robin': 'queues.strategy.roundRobin',
  'best-skill-match': 'queues.strategy.bestSkill',
};

/** Renders a form error; a parameter written `{key}` is itself a message key. */
export function formErrorText(t: Translate, e: FormError): string {
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(e.params ?? {})) {
    const m = typeof v === 'string' ? /^\{(.+)\}$/.exec(v) : null;
    params[k] = m ? t(m[1] as MessageKey) : v;
  }
  return t(e.key, params);
}

function timeZones(): string[] {
  try {
    return (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
}

/** Routing queues (CC-4): strategy, members, skills, hours, overflow, offers, bullseye, SLA (CC-9). */
export function QueuesAdmin({ selectedId }: { selectedId: string | null }) {
  const { t } = useI18n();
  const { data, error, reload: reloadList } = useLoad(() => api.queues());
  const { reloadQueues } = useWorkspace();
  const [name, setName] = useState('');
  const [createError, setCreateError] = useState<string | null>(null);
  const queues = data?.items ?? [];
  const selected = queues.find((q) => q.id === selectedId) ?? null;
  const reload = () => {
    reloadList();
    reloadQueues();
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setCreateError(null);
    const built = queueInputFromForm(emptyQueueForm(name.trim()), null);
    if (!built.input) {
      setCreateError(built.errors.map((x) => formErrorText(t, x)).join(' '));
      return;
    }
    try {
      const q = await api.createQueue(built.input);
      setName('');
      reload();
      navigate({ name: 'admin', section: 'queues', itemId: q.id });
    } catch (err) {
      setCreateError(errorText(t, err));
    }
  };

  return (
    <div className="admin-split">
      <section className="admin-list">
        <header className="section-header"><h2>{t('admin.queues')}</h2></header>
        <form className="inline-form" onSubmit={create}>
          <input className="input input-sm" name="queueName" required value={name} onChange={(e) => setName(e.target.value)}
            placeholder={t('queues.newPlaceholder')} aria-label={t('queues.name')} maxLength={100} />
          <button className="btn btn-primary btn-sm" type="submit">{t('queues.create')}</button>
        </form>
        {createError && <p className="form-error">{createError}</p>}
        {error && <p className="form-error">{error}</p>}
        <ul className="item-list">
          {queues.map((q) => (
            <li key={q.id}>
              <a href={routeHref({ name: 'admin', section: 'queues', itemId: q.id })} className={`item${q.id === selectedId ? ' active' : ''}`}
                data-queue-name={q.name}>
                <Icon name="inbox" size={15} className="muted" />
                <span className="item-title">{q.name}</span>
                {q.isDefault && <span className="pill">{t('queues.default')}</span>}
                <span className="muted small">{t('queues.memberCount', { count: q.members.length })}</span>
              </a>
            </li>
          ))}
          {data && queues.length === 0 && <li className="muted small pad">{t('queues.none')}</li>}
        </ul>
      </section>
      <section className="admin-detail">
        {selected ? <QueueEditor key={selected.id} queue={selected} queues={queues} onSaved={reload} /> : (
          <div className="empty-state"><p className="muted">{t('queues.select')}</p></div>
        )}
      </section>
    </div>
  );
}

function QueueEditor({ queue, queues, onSaved }: { queue: Queue; queues: Queue[]; onSaved: () => void }) {
  const { t } = useI18n();
  const { users } = useWorkspace();
  const skills = useLoad(() => api.skills());
  const [f, setF] = useState<QueueForm>(() => formFromQueue(queue));
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const others = queues.filter((q) => q.id !== queue.id);
  const zones = useMemo(timeZones, []);
  const set = (patch: Partial<QueueForm>) => setF((old) => ({ ...old, ...patch }));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setStatus(null);
    const built = queueInputFromForm(f, queue.id);
    if (!built.input) {
      setStatus({ ok: false, text: built.errors.map((x) => formErrorText(t, x)).join(' ') });
      return;
    }
    const body: Partial<typeof built.input> = { ...built.input };
    // Unchanged members are not sent: the default queue keeps following every user of the tenant.
    const same = body.members && body.members.length === queue.members.length && body.members.every((m, i) => m === queue.members[i]);
    if (same) delete body.members;
    setSaving(true);
    try {
      const saved = await api.updateQueue(queue.id, body);
      // The server's normalised queue (defaults filled) becomes the form.
      setF(formFromQueue(saved));
      setStatus({ ok: true, text: t('common.saved') });
      onSaved();
    } catch (err) {
      setStatus({ ok: false, text: errorText(t, err) });
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    if (!confirm(t('queues.confirmDelete', { name: queue.name }))) return;
    try {
      await api.deleteQueue(queue.id);
      onSaved();
      navigate({ name: 'admin', section: 'queues', itemId: null });
    } catch (err) {
      setStatus({ ok: false, text: errorText(t, err) });
    }
  };

  const toggleMember = (id: string, on: boolean) =>
    set({ members: on ? [...f.members.filter((m) => m !== id), id] : f.members.filter((m) => m !== id) });

  return (
    <form className="detail queue-editor" onSubmit={save} noValidate>
      <header className="section-header">
        <h2>{queue.name}</h2>
        {queue.isDefault && <span className="pill">{t('queues.default')}</span>}
        <span className="push-right" />
        {!queue.isDefault && (
          <button type="button" className="btn btn-sm btn-danger" onClick={() => void remove()}><Icon name="trash" size={14} /> {t('common.delete')}</button>
        )}
      </header>

      <Section title={t('queues.general')}>
        <div className="form-grid">
          <label className="field">
            <span>{t('queues.name')}</span>
            <input className="input" name="name" required value={f.name} maxLength={100} onChange={(e) => set({ name: e.target.value })} />
          </label>
          <label className="field">
            <span>{t('queues.strategy')}</span>
            <select className="select" name="strategy" value={f.strategy} onChange={(e) => set({ strategy: e.target.value as QueueForm['strategy'] })}>
              {STRATEGIES.map((s) => <option key={s} value={s}>{t(strategyLabel[s])}</option>)}
            </select>
          </label>
          <NumberField label={t('queues.offerTimeout')} unit={t('unit.seconds')} name="offerTimeoutSeconds" value={f.offerTimeoutSeconds}
            onChange={(v) => set({ offerTimeoutSeconds: v })} min={1} />
          <NumberField label={t('queues.declineCooldown')} unit={t('unit.seconds')} name="declineCooldownSeconds" value={f.declineCooldownSeconds}
            onChange={(v) => set({ declineCooldownSeconds: v })} />
          <NumberField label={t('queues.wrapUp')} unit={t('unit.seconds')} name="wrapUpSeconds" value={f.wrapUpSeconds} onChange={(v) => set({ wrapUpSeconds: v })} />
          <NumberField label={t('queues.serviceLevelTarget')} unit={t('unit.seconds')} name="serviceLevelTargetSeconds" value={f.serviceLevelTargetSeconds}
            onChange={(v) => set({ serviceLevelTargetSeconds: v })} min={1} />
          <NumberField label={t('queues.priorityWeight')} unit={t('unit.seconds')} name="priorityWeightSeconds" value={f.priorityWeightSeconds}
            onChange={(v) => set({ priorityWeightSeconds: v })} hint={t('queues.priorityWeightHint')} />
          <NumberField label={t('queues.lastAgent')} unit={t('unit.seconds')} name="lastAgentPreferenceSeconds" value={f.lastAgentPreferenceSeconds}
            onChange={(v) => set({ lastAgentPreferenceSeconds: v })} />
          <label className="check span-2">
            <input type="checkbox" name="setAwayOnOfferTimeout" checked={f.setAwayOnOfferTimeout} onChange={(e) => set({ setAwayOnOfferTimeout: e.target.checked })} />
            {t('queues.awayOnTimeout')}
          </label>
          <div className="field span-2">
            <span>{t('queues.autoAccept')}</span>
            <div className="row-wrap">
              {CHANNELS.map((c) => (
                <label key={c} className="check">
                  <input type="checkbox" checked={Boolean(f.autoAccept[c])} onChange={(e) => set({ autoAccept: { ...f.autoAccept, [c]: e.target.checked } })} />
                  {t(channelLabel[c] ?? 'channel.task')}
                </label>
              ))}
            </div>
          </div>
        </div>
      </Section>

      <Section title={t('queues.members')} hint={t('queues.membersHint')}>
        <div className="check-grid" data-testid="queue-members">
          {users.map((u) => (
            <label key={u.id} className="check">
              <input type="checkbox" checked={f.members.includes(u.id)} onChange={(e) => toggleMember(u.id, e.target.checked)} data-user-id={u.id} />
              {u.name} <span className="muted small">{t(`role.${u.role}`)}</span>
            </label>
          ))}
        </div>
      </Section>

      <Section title={t('queues.requiredSkills')} hint={t('queues.requiredSkillsHint')}>
        <datalist id="skill-options">{(skills.data?.items ?? []).map((s) => <option key={s} value={s} />)}</datalist>
        {f.requiredSkills.map((r, i) => (
          <div key={i} className="row-gap row-line">
            <input className="input input-sm skill-input" list="skill-options" value={r.skill} aria-label={t('skills.skill')} placeholder={t('skills.skillPlaceholder')}
              onChange={(e) => set({ requiredSkills: f.requiredSkills.map((x, k) => (k === i ? { ...x, skill: e.target.value } : x)) })} />
            <LevelSelect value={r.minLevel} label={t('skills.minLevel')}
              onChange={(v) => set({ requiredSkills: f.requiredSkills.map((x, k) => (k === i ? { ...x, minLevel: v } : x)) })} />
            <RemoveButton label={t('common.remove')} onClick={() => set({ requiredSkills: f.requiredSkills.filter((_, k) => k !== i) })} />
          </div>
        ))}
        <button type="button" className="link-btn small" onClick={() => set({ requiredSkills: [...f.requiredSkills, { skill: '', minLevel: 1 }] })}>
          + {t('queues.addSkill')}
        </button>
      </Section>

      <Section title={t('queues.businessHours')}>
        <label className="check">
          <input type="checkbox" name="hoursEnabled" checked={f.hoursEnabled} onChange={(e) => set({ hoursEnabled: e.target.checked })} />
          {t('queues.hoursEnabled')}
        </label>
        {!f.hoursEnabled ? <p className="muted small">{t('queues.alwaysOpen')}</p> : (
          <>
            <label className="field tz-field">
              <span>{t('queues.timeZone')}</span>
              <input className="input input-sm" list="tz-options" name="timeZone" value={f.timeZone} onChange={(e) => set({ timeZone: e.target.value })} />
              <datalist id="tz-options">{zones.map((z) => <option key={z} value={z} />)}</datalist>
            </label>
            <table className="hours-table">
              <tbody>
                {WEEKDAYS.map((d) => (
                  <tr key={d} data-day={d}>
                    <th>{t(`weekday.${d}`)}</th>
                    <td>
                      <Intervals list={f.weekly[d]} closedLabel={t('queues.closed')} onChange={(list) => set({ weekly: { ...f.weekly, [d]: list } })} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <h4 className="sub-title">{t('queues.holidays')}</h4>
            {f.holidays.length === 0 && <p className="muted small">{t('queues.noHolidays')}</p>}
            {f.holidays.map((h, i) => (
              <div key={i} className="holiday-row">
                <input type="date" className="input input-sm date-input" value={h.date} aria-label={t('queues.holidayDate')}
                  onChange={(e) => set({ holidays: f.holidays.map((x, k) => (k === i ? { ...x, date: e.target.value } : x)) })} />
                <input className="input input-sm" value={h.name} placeholder={t('queues.holidayName')} aria-label={t('queues.holidayName')} maxLength={100}
                  onChange={(e) => set({ holidays: f.holidays.map((x, k) => (k === i ? { ...x, name: e.target.value } : x)) })} />
                <Intervals list={h.open} closedLabel={t('queues.closedAllDay')}
                  onChange={(open) => set({ holidays: f.holidays.map((x, k) => (k === i ? { ...x, open } : x)) })} />
                <RemoveButton label={t('common.remove')} onClick={() => set({ holidays: f.holidays.filter((_, k) => k !== i) })} />
              </div>
            ))}
            <button type="button" className="link-btn small" onClick={() => set({ holidays: [...f.holidays, { date: '', name: '', open: [] }] })}>
              + {t('queues.addHoliday')}
            </button>
            <div className="field exit-field">
              <span>{t('queues.outOfHours')}</span>
              <ExitAction value={f.outOfHours} queues={others} onChange={(v) => set({ outOfHours: v })} name="outOfHours" />
            </div>
          </>
        )}
      </Section>

      <Section title={t('queues.limits')}>
        <div className="limit-row">
          <label className="check">
            <input type="checkbox" checked={f.maxWaitEnabled} onChange={(e) => set({ maxWaitEnabled: e.target.checked })} />
            {t('queues.maxWait')}
          </label>
          {f.maxWaitEnabled && (
            <>
              <input className="input input-sm num-input" type="number" min={1} value={f.maxWaitSeconds} aria-label={t('queues.maxWait')}
                onChange={(e) => set({ maxWaitSeconds: e.target.value })} />
              <span className="muted small">{t('unit.seconds')} →</span>
              <ExitAction value={f.maxWaitAction} queues={others} onChange={(v) => set({ maxWaitAction: v })} name="maxWait" />
            </>
          )}
        </div>
        <div className="limit-row">
          <label className="check">
            <input type="checkbox" checked={f.maxSizeEnabled} onChange={(e) => set({ maxSizeEnabled: e.target.checked })} />
            {t('queues.maxSize')}
          </label>
          {f.maxSizeEnabled && (
            <>
              <input className="input input-sm num-input" type="number" min={1} value={f.maxSize} aria-label={t('queues.maxSize')}
                onChange={(e) => set({ maxSize: e.target.value })} />
              <span className="muted small">{t('queues.waitingItems')} →</span>
              <ExitAction value={f.maxSizeAction} queues={others} onChange={(v) => set({ maxSizeAction: v })} name="maxSize" />
            </>
          )}
        </div>
      </Section>

      <Section title={t('queues.bullseye')} hint={t('queues.bullseyeHint')}>
        {f.bullseye.map((r, i) => {
          const change = (patch: Partial<typeof r>) => set({ bullseye: f.bullseye.map((x, k) => (k === i ? { ...x, ...patch } : x)) });
          return (
            <div key={i} className="ring-row">
              <span className="ring-index">{i + 1}</span>
              <label className="row-gap small">{t('queues.ringAfter')}
                <input className="input input-sm num-input" type="number" min={0} value={r.afterSeconds} onChange={(e) => change({ afterSeconds: e.target.value })} />
                {t('unit.seconds')}
              </label>
              <label className="check small">
                <input type="checkbox" checked={r.dropPreferredSkills} onChange={(e) => change({ dropPreferredSkills: e.target.checked })} />
                {t('queues.ringDropPreferred')}
              </label>
              <label className="row-gap small">{t('queues.ringLowerBy')}
                <select className="select select-sm" value={r.lowerRequiredLevelsBy} onChange={(e) => change({ lowerRequiredLevelsBy: Number(e.target.value) })}>
                  {[0, 1, 2, 3, 4].map((n) => <option key={n} value={n}>{n}</option>)}
                </select>
              </label>
              <MemberPicker users={users} value={r.addQueueMembers} exclude={f.members} label={t('queues.ringAddMembers')}
                onChange={(ids) => change({ addQueueMembers: ids })} />
              <RemoveButton label={t('common.remove')} onClick={() => set({ bullseye: f.bullseye.filter((_, k) => k !== i) })} />
            </div>
          );
        })}
        <button type="button" className="link-btn small"
          onClick={() => set({ bullseye: [...f.bullseye, { afterSeconds: String(30 * (f.bullseye.length + 1)), dropPreferredSkills: true, lowerRequiredLevelsBy: 0, addQueueMembers: [] }] })}>
          + {t('queues.addRing')}
        </button>
      </Section>

      <Section title={t('queues.sla')}>
        <label className="check">
          <input type="checkbox" name="slaEnabled" checked={f.slaEnabled} onChange={(e) => set({ slaEnabled: e.target.checked })} />
          {t('queues.slaEnabled')}
        </label>
        {f.slaEnabled && (
          <>
            <table className="table sla-table">
              <thead>
                <tr>
                  <th>{t('queues.slaMinPriority')}</th><th>{t('sla.firstResponse')}</th><th>{t('sla.nextResponse')}</th><th>{t('sla.resolution')}</th><th />
                </tr>
              </thead>
              <tbody>
                {f.slaTargets.map((tg, i) => {
                  const change = (patch: Partial<typeof tg>) => set({ slaTargets: f.slaTargets.map((x, k) => (k === i ? { ...x, ...patch } : x)) });
                  return (
                    <tr key={i}>
                      <td><input className="input input-sm num-input" type="number" value={tg.minPriority} placeholder={t('queues.slaAnyPriority')}
                        aria-label={t('queues.slaMinPriority')} onChange={(e) => change({ minPriority: e.target.value })} /></td>
                      <td><MinutesInput value={tg.firstResponseMinutes} label={t('sla.firstResponse')} onChange={(v) => change({ firstResponseMinutes: v })} /></td>
                      <td><MinutesInput value={tg.nextResponseMinutes} label={t('sla.nextResponse')} onChange={(v) => change({ nextResponseMinutes: v })} /></td>
                      <td><MinutesInput value={tg.resolutionMinutes} label={t('sla.resolution')} onChange={(v) => change({ resolutionMinutes: v })} /></td>
                      <td><RemoveButton label={t('common.remove')} onClick={() => set({ slaTargets: f.slaTargets.filter((_, k) => k !== i) })} /></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <button type="button" className="link-btn small"
              onClick={() => set({ slaTargets: [...f.slaTargets, { minPriority: '3', firstResponseMinutes: '', nextResponseMinutes: '', resolutionMinutes: '' }] })}>
              + {t('queues.addSlaTarget')}
            </button>
            <div className="form-grid sla-options">
              <label className="field">
                <span>{t('queues.slaWarnBefore')}</span>
                <span className="row-gap">
                  <input className="input input-sm num-input" type="number" min={0} step="any" value={f.slaWarnBeforeMinutes}
                    onChange={(e) => set({ slaWarnBeforeMinutes: e.target.value })} />
                  <span className="muted small">{t('unit.minutes')}</span>
                </span>
              </label>
              <label className="check">
                <input type="checkbox" checked={f.slaBusinessHoursOnly} onChange={(e) => set({ slaBusinessHoursOnly: e.target.checked })} />
                {t('queues.slaBusinessHoursOnly')}
              </label>
              <Escalation title={t('queues.onWarning')} value={f.onWarning} queues={others} onChange={(v) => set({ onWarning: v })} />
              <Escalation title={t('queues.onBreach')} value={f.onBreach} queues={others} onChange={(v) => set({ onBreach: v })} />
            </div>
          </>
        )}
      </Section>

      <div className="form-actions sticky-actions">
        <button className="btn btn-primary" type="submit" disabled={saving}>{t('common.save')}</button>
        {status && <span className={status.ok ? 'ok' : 'form-error'} role="status">{status.text}</span>}
      </div>
    </form>
  );
}

function Section({ title, hint, children }: { title: string; hint?: string; children: ReactNode }) {
  return (
    <section className="card form-section">
      <h3>{title}</h3>
      {hint && <p className="muted small">{hint}</p>}
      {children}
    </section>
  );
}

function NumberField({ label, unit, name, value, onChange, min = 0, hint }: {
  label: string; unit: string; name: string; value: string; onChange: (v: string) => void; min?: number; hint?: string;
}) {
  return (
    <label className="field">
      <span>{label}</span>
      <span className="row-gap">
        <input className="input input-sm num-input" type="number" name={name} min={min} value={value} onChange={(e) => onChange(e.target.value)} />
        <span className="muted small">{unit}</span>
      </span>
      {hint && <span className="muted small">{hint}</span>}
    </label>
  );
}

function MinutesInput({ value, label, onChange }: { value: string; label: string; onChange: (v: string) => void }) {
  const { t } = useI18n();
  return (
    <span className="row-gap">
      <input className="input input-sm num-input" type="number" min={0} step="any" value={value} aria-label={label} onChange={(e) => onChange(e.target.value)} />
      <span className="muted small">{t('unit.min')}</span>
    </span>
  );
}

export function LevelSelect({ value, label, onChange }: { value: number; label: string; onChange: (v: number) => void }) {
  return (
    <select className="select select-sm level-select" value={value} aria-label={label} onChange={(e) => onChange(Number(e.target.value))}>
      {[1, 2, 3, 4, 5].map((n) => <option key={n} value={n}>{'★'.repeat(n)} {n}</option>)}
    </select>
  );
}

export function RemoveButton({ label, onClick }: { label: string; onClick: () => void }) {
  return <button type="button" className="icon-btn" aria-label={label} title={label} onClick={onClick}><Icon name="x" size={15} /></button>;
}

function Intervals({ list, onChange, closedLabel }: { list: TimeInterval[]; onChange: (l: TimeInterval[]) => void; closedLabel: string }) {
  const { t } = useI18n();
  return (
    <div className="intervals">
      {list.length === 0 && <span className="muted small closed">{closedLabel}</span>}
      {list.map((iv, i) => (
        <span key={i} className="interval">
          <input type="time" className="input input-sm time-input" value={iv.start} aria-label={t('queues.opens')}
            onChange={(e) => onChange(list.map((x, k) => (k === i ? { ...x, start: e.target.value } : x)))} />
          –
          <input type="time" className="input input-sm time-input" value={iv.end === '24:00' ? '23:59' : iv.end} aria-label={t('queues.closes')}
            onChange={(e) => onChange(list.map((x, k) => (k === i ? { ...x, end: e.target.value === '23:59' ? '24:00' : e.target.value } : x)))} />
          <RemoveButton label={t('common.remove')} onClick={() => onChange(list.filter((_, k) => k !== i))} />
        </span>
      ))}
      <button type="button" className="link-btn small" onClick={() => {
        const last = list[list.length - 1];
        const next = last ? { start: last.end === '24:00' ? '23:00' : last.end, end: '24:00' } : { start: '09:00', end: '17:00' };
        onChange([...list, next]);
      }}>+ {t('queues.addInterval')}</button>
    </div>
  );
}

const exitKinds: { kind: ExitForm['kind']; label: MessageKey }[] = [
  { kind: 'offline-form', label: 'queues.exit.offlineForm' },
  { kind: 'voicemail', label: 'queues.exit.voicemail' },
  { kind: 'overflow', label: 'queues.exit.overflow' },
  { kind: 'close', label: 'queues.exit.close' },
];

function ExitAction({ value, queues, onChange, name }: { value: ExitForm; queues: Queue[]; onChange: (v: ExitForm) => void; name: string }) {
  const { t } = useI18n();
  return (
    <span className="exit-action">
      <select className="select select-sm" name={`${name}Action`} value={value.kind} onChange={(e) => onChange({ ...value, kind: e.target.value as ExitForm['kind'] })}>
        {exitKinds.map((k) => <option key={k.kind} value={k.kind}>{t(k.label)}</option>)}
      </select>
      {value.kind === 'overflow' && (
        <select className="select select-sm" name={`${name}Queue`} value={value.queueId} aria-label={t('queues.overflowTo')}
          onChange={(e) => onChange({ ...value, queueId: e.target.value })}>
          <option value="">{t('queues.pickQueue')}</option>
          {queues.map((q) => <option key={q.id} value={q.id}>{q.name}</option>)}
        </select>
      )}
      {value.kind === 'close' && (
        <input className="input input-sm" value={value.message} maxLength={2000} placeholder={t('queues.closeMessage')} aria-label={t('queues.closeMessage')}
          onChange={(e) => onChange({ ...value, message: e.target.value })} />
      )}
    </span>
  );
}

function Escalation({ title, value, queues, onChange }: { title: string; value: EscalationForm; queues: Queue[]; onChange: (v: EscalationForm) => void }) {
  const { t } = useI18n();
  return (
    <fieldset className="fieldset escalation">
      <legend>{title}</legend>
      <label className="row-gap small">
        {t('queues.raisePriority')}
        <input className="input input-sm num-input" type="number" min={1} max={100} value={value.raisePriorityBy} placeholder="—"
          onChange={(e) => onChange({ ...value, raisePriorityBy: e.target.value })} />
      </label>
      <label className="check small">
        <input type="checkbox" checked={value.notifySupervisor} onChange={(e) => onChange({ ...value, notifySupervisor: e.target.checked })} />
        {t('queues.notifySupervisor')}
      </label>
      <label className="row-gap small">
        {t('queues.moveQueue')}
        <select className="select select-sm" value={value.moveQueueId} onChange={(e) => onChange({ ...value, moveQueueId: e.target.value })}>
          <option value="">—</option>
          {queues.map((q) => <option key={q.id} value={q.id}>{q.name}</option>)}
        </select>
      </label>
    </fieldset>
  );
}

function MemberPicker({ users, value, exclude, label, onChange }: {
  users: User[]; value: string[]; exclude: string[]; label: string; onChange: (ids: string[]) => void;
}) {
  const { t } = useI18n();
  const candidates = users.filter((u) => !exclude.includes(u.id));
  return (
    <details className="member-picker">
      <summary className="small">{label}{value.length > 0 ? ` (${value.length})` : ''}</summary>
      <div className="member-picker-list">
        {candidates.length === 0 && <span className="muted small">{t('queues.everyoneIsMember')}</span>}
        {candidates.map((u) => (
          <label key={u.id} className="check small">
            <input type="checkbox" checked={value.includes(u.id)}
              onChange={(e) => onChange(e.target.checked ? [...value, u.id] : value.filter((x) => x !== u.id))} />
            {u.name}
          </label>
        ))}
      </div>
    </details>
  );
}
