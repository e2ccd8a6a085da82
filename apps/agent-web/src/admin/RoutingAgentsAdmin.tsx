import { useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import { CHANNELS, type AgentRouting, type PerChannel } from '../api/types';
import { routeHref } from '../app/hash-route';
import { useI18n } from '../i18n/i18n';
import { stateLabel } from '../routing/AgentStateMenu';
import { channelLabel } from '../routing/OfferStack';
import { Avatar } from '../ui/Avatar';
import { LevelSelect, RemoveButton } from './QueuesAdmin';
import { useLoad } from './use-load';

/** Agents' skills (levels 1–5) and capacity per channel (CC-2, CC-4). */
export function RoutingAgentsAdmin({ selectedId }: { selectedId: string | null }) {
  const { t } = useI18n();
  const { data, error, reload } = useLoad(() => api.routingAgents());
  const agents = data?.items ?? [];
  const selected = agents.find((a) => a.userId === selectedId) ?? null;

  return (
    <div className="admin-split">
      <section className="admin-list">
        <header className="section-header"><h2>{t('admin.routingAgents')}</h2></header>
        {error && <p className="form-error">{error}</p>}
        <ul className="item-list">
          {agents.map((a) => (
            <li key={a.userId}>
              <a href={routeHref({ name: 'admin', section: 'routing-agents', itemId: a.userId })}
                className={`item agent-item${a.userId === selectedId ? ' active' : ''}`} data-agent-name={a.name}>
                <Avatar name={a.name} size={26} />
                <span className="item-title">
                  {a.name}
                  <span className="agent-skills small">
                    {Object.entries(a.skills).map(([s, l]) => <span key={s} className="skill-chip">{s} {l}</span>)}
                  </span>
                </span>
                <span className={`state-pill state-${a.state}`}><span className="state-dot" />{t(stateLabel[a.state])}</span>
              </a>
            </li>
          ))}
        </ul>
      </section>
      <section className="admin-detail">
        {selected ? <AgentEditor key={selected.userId} agent={selected} onSaved={reload} /> : (
          <div className="empty-state"><p className="muted">{t('routingAgents.select')}</p></div>
        )}
      </section>
    </div>
  );
}

function AgentEditor({ agent, onSaved }: { agent: AgentRouting; onSaved: () => void }) {
  const { t } = useI18n();
  const known = useLoad(() => api.skills());
  const [skills, setSkills] = useState<{ skill: string; level: number }[]>(
    () => Object.entries(agent.skills).map(([skill, level]) => ({ skill, level })),
  );
  const [capacity, setCapacity] = useState<Record<string, string>>(
    () => Object.fromEntries(CHANNELS.map((c) => [c, String(agent.capacity[c] ?? 0)])),
  );
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setStatus(null);
    const problems: string[] = [];
    const skillMap: Record<string, number> = {};
    for (const s of skills) {
      const name = s.skill.trim();
      if (!name) continue;
      if (!/^[A-Za-z0-9_.:-]{1,50}$/.test(name)) problems.push(t('queues.error.skillName', { skill: name }));
      else if (skillMap[name] !== undefined) problems.push(t('queues.error.skillTwice', { skill: name }));
      skillMap[name] = s.level;
    }
    const cap: PerChannel<number> = {};
    for (const c of CHANNELS) {
      const v = Number(capacity[c] ?? '0');
      if (!Number.isInteger(v) || v < 0 || v > 100) problems.push(t('routingAgents.badCapacity', { channel: t(channelLabel[c] ?? 'channel.task') }));
      else if (v > 0) cap[c] = v;
    }
    if (problems.length > 0) {
      setStatus({ ok: false, text: problems.join(' ') });
      return;
    }
    try {
      await api.setAgentProfile(agent.userId, { skills: skillMap, capacity: cap });
      setStatus({ ok: true, text: t('common.saved') });
      onSaved();
    } catch (err) {
      setStatus({ ok: false, text: errorText(t, err) });
    }
  };

  return (
    <form className="detail agent-editor" onSubmit={save} noValidate>
      <header className="section-header">
        <Avatar name={agent.name} size={32} />
        <h2>{agent.name}</h2>
        <span className="pill">{t(`role.${agent.role === 'admin' || agent.role === 'supervisor' ? agent.role : 'agent'}`)}</span>
        <span className={`state-pill state-${agent.state}`}><span className="state-dot" />{t(stateLabel[agent.state])}</span>
      </header>
      <section className="card form-section">
        <h3>{t('routingAgents.skills')}</h3>
        <p className="muted small">{t('routingAgents.skillsHint')}</p>
        <datalist id="agent-skill-options">{(known.data?.items ?? []).map((s) => <option key={s} value={s} />)}</datalist>
        {skills.length === 0 && <p className="muted small">{t('routingAgents.noSkills')}</p>}
        {skills.map((s, i) => (
          <div key={i} className="row-gap row-line">
            <input className="input input-sm skill-input" list="agent-skill-options" value={s.skill} placeholder={t('skills.skillPlaceholder')}
              aria-label={t('skills.skill')} name={`skill-${i}`}
              onChange={(e) => setSkills(skills.map((x, k) => (k === i ? { ...x, skill: e.target.value } : x)))} />
            <LevelSelect value={s.level} label={t('skills.level')} onChange={(v) => setSkills(skills.map((x, k) => (k === i ? { ...x, level: v } : x)))} />
            <RemoveButton label={t('common.remove')} onClick={() => setSkills(skills.filter((_, k) => k !== i))} />
          </div>
        ))}
        <button type="button" className="link-btn small" onClick={() => setSkills([...skills, { skill: '', level: 3 }])}>+ {t('queues.addSkill')}</button>
      </section>
      <section className="card form-section">
        <h3>{t('routingAgents.capacity')}</h3>
        <p className="muted small">{t('routingAgents.capacityHint')}</p>
        <div className="capacity-grid">
          {CHANNELS.map((c) => (
            <label key={c} className="field">
              <span>{t(channelLabel[c] ?? 'channel.task')}</span>
              <span className="row-gap">
                <input className="input input-sm num-input" type="number" min={0} max={100} name={`capacity-${c}`} value={capacity[c] ?? '0'}
                  onChange={(e) => setCapacity({ ...capacity, [c]: e.target.value })} />
                <span className="muted small">{t('routingAgents.load', { count: agent.load[c] ?? 0 })}</span>
              </span>
            </label>
          ))}
        </div>
      </section>
      <div className="form-actions">
        <button className="btn btn-primary" type="submit">{t('common.save')}</button>
        {status && <span className={status.ok ? 'ok' : 'form-error'} role="status">{status.text}</span>}
      </div>
    </form>
  );
}
