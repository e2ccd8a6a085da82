/**
 * The queue editor's form model and its conversion to the API's QueueInput (docs/routing-api.md).
 * Pure, so the rules (intervals, overlaps, numbers, overflow targets) are unit-tested.
 */
import {
  CHANNELS, WEEKDAYS, type BullseyeRing, type EscalationAction, type PerChannel, type Queue, type QueueExitAction,
  type QueueInput, type SlaTarget, type StrategyName, type TimeInterval, type Weekday,
} from '../api/types';
import type { MessageKey } from '../i18n/i18n';

export type ExitKind = QueueExitAction['kind'];
export interface ExitForm { kind: ExitKind; queueId: string; message: string }
export interface HolidayForm { date: string; name: string; open: TimeInterval[] }
export interface RingForm { afterSeconds: string; dropPreferredSkills: boolean; lowerRequiredLevelsBy: number; addQueueMembers: string[] }
export interface SlaTargetForm { minPriority: string; firstResponseMinutes: string; nextResponseMinutes: string; resolutionMinutes: string }
export interface EscalationForm { raisePriorityBy: string; notifySupervisor: boolean; moveQueueId: string }

export interface QueueForm {
  name: string;
  strategy: StrategyName;
  members: string[];
  requiredSkills: { skill: string; minLevel: number }[];
  offerTimeoutSeconds: string;
  setAwayOnOfferTimeout: boolean;
  declineCooldownSeconds: string;
  wrapUpSeconds: string;
  priorityWeightSeconds: string;
  lastAgentPreferenceSeconds: string;
  serviceLevelTargetSeconds: string;
  autoAccept: PerChannel<boolean>;
  hoursEnabled: boolean;
  timeZone: string;
  weekly: Record<Weekday, TimeInterval[]>;
  holidays: HolidayForm[];
  outOfHours: ExitForm;
  maxWaitEnabled: boolean;
  maxWaitSeconds: string;
  maxWaitAction: ExitForm;
  maxSizeEnabled: boolean;
  maxSize: string;
  maxSizeAction: ExitForm;
  bullseye: RingForm[];
  slaEnabled: boolean;
  slaId: string;
  slaTargets: SlaTargetForm[];
  slaBusinessHoursOnly: boolean;
  slaWarnBeforeMinutes: string;
  onWarning: EscalationForm;
  onBreach: EscalationForm;
}

export interface FormError { key: MessageKey; params?: Record<string, string | number> }

const str = (n: number | undefined | null): string => (n === undefined || n === null ? '' : String(n));
/** Minutes for display; seconds that are not whole minutes keep their decimals. */
const minutes = (seconds: number | undefined): string => (seconds === undefined ? '' : String(Math.round((seconds / 60) * 1000) / 1000));

function exitForm(a: QueueExitAction | undefined): ExitForm {
  return {
    kind: a?.kind ?? 'offline-form',
    queueId: a?.kind === 'overflow' ? a.queueId : '',
    message: a?.kind === 'close' ? a.message : '',
  };
}

function escalationForm(actions: EscalationAction[] | undefined): EscalationForm {
  const raise = actions?.find((a) => a.kind === 'raise-priority');
  const move = actions?.find((a) => a.kind === 'move-queue');
  return {
    raisePriorityBy: raise?.kind === 'raise-priority' ? String(raise.by) : '',
    notifySupervisor: Boolean(actions?.some((a) => a.kind === 'notify-supervisor')),
    moveQueueId: move?.kind === 'move-queue' ? move.queueId : '',
  };
}

export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function emptyWeek(): Record<Weekday, TimeInterval[]> {
  return { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] };
}

/** A new queue's form: office hours Monday to Friday prepared (but off), 30 s offers. */
export function emptyQueueForm(name = ''): QueueForm {
  const weekly = emptyWeek();
  for (const d of ['mon', 'tue', 'wed', 'thu', 'fri'] as const) weekly[d] = [{ start: '09:00', end: '17:00' }];
  return {
    name, strategy: 'longest-idle', members: [], requiredSkills: [],
    offerTimeoutSeconds: '30', setAwayOnOfferTimeout: false, declineCooldownSeconds: '30', wrapUpSeconds: '0',
    priorityWeightSeconds: '60', lastAgentPreferenceSeconds: '0', serviceLevelTargetSeconds: '20', autoAccept: {},
    hoursEnabled: false, timeZone: browserTimeZone(), weekly, holidays: [],
    outOfHours: exitForm(undefined),
    maxWaitEnabled: false, maxWaitSeconds: '600', maxWaitAction: exitForm(undefined),
    maxSizeEnabled: false, maxSize: '50', maxSizeAction: exitForm(undefined),
    bullseye: [],
    slaEnabled: false, slaId: 'default', slaTargets: [{ minPriority: '', firstResponseMinutes: '5', nextResponseMinutes: '', resolutionMinutes: '' }],
    slaBusinessHoursOnly: false, slaWarnBeforeMinutes: '1',
    onWarning: escalationForm(undefined), onBreach: escalationForm(undefined),
  };
}

export function formFromQueue(q: Queue): QueueForm {
  const base = emptyQueueForm(q.name);
  const weekly = emptyWeek();
  for (const d of WEEKDAYS) weekly[d] = [...(q.businessHours?.weekly[d] ?? [])];
  return {
    ...base,
    name: q.name,
    strategy: q.strategy ?? 'longest-idle',
    members: [...q.members],
    requiredSkills: (q.requiredSkills ?? []).map((r) => ({ ...r })),
    offerTimeoutSeconds: str(q.offerTimeoutSeconds ?? 30),
    setAwayOnOfferTimeout: q.setAwayOnOfferTimeout ?? false,
    declineCooldownSeconds: str(q.declineCooldownSeconds ?? 30),
    wrapUpSeconds: str(q.wrapUpSeconds ?? 0),
    priorityWeightSeconds: str(q.priorityWeightSeconds ?? 60),
    lastAgentPreferenceSeconds: str(q.lastAgentPreferenceSeconds ?? 0),
    serviceLevelTargetSeconds: str(q.serviceLevelTargetSeconds ?? 20),
    autoAccept: { ...(q.autoAccept ?? {}) },
    hoursEnabled: Boolean(q.businessHours),
    timeZone: q.businessHours?.timeZone ?? base.timeZone,
    weekly: q.businessHours ? weekly : base.weekly,
    holidays: (q.businessHours?.holidays ?? []).map((h) => ({ date: h.date, name: h.name ?? '', open: [...(h.open ?? [])] })),
    outOfHours: exitForm(q.outOfHoursAction),
    maxWaitEnabled: Boolean(q.maxWait),
    maxWaitSeconds: q.maxWait ? String(q.maxWait.seconds) : base.maxWaitSeconds,
    maxWaitAction: exitForm(q.maxWait?.action),
    maxSizeEnabled: Boolean(q.maxQueueSize),
    maxSize: q.maxQueueSize ? String(q.maxQueueSize.size) : base.maxSize,
    maxSizeAction: exitForm(q.maxQueueSize?.action),
    bullseye: (q.bullseye ?? []).map((r) => ({
      afterSeconds: String(r.afterSeconds), dropPreferredSkills: Boolean(r.dropPreferredSkills),
      lowerRequiredLevelsBy: r.lowerRequiredLevelsBy ?? 0, addQueueMembers: [...(r.addQueueMembers ?? [])],
    })),
    slaEnabled: Boolean(q.sla),
    slaId: q.sla?.id ?? base.slaId,
    slaTargets: q.sla ? q.sla.targets.map((t) => ({
      minPriority: str(t.minPriority), firstResponseMinutes: minutes(t.firstResponseSeconds),
      nextResponseMinutes: minutes(t.nextResponseSeconds), resolutionMinutes: minutes(t.resolutionSeconds),
    })) : base.slaTargets,
    slaBusinessHoursOnly: q.sla?.businessHoursOnly ?? false,
    slaWarnBeforeMinutes: q.sla ? minutes(q.sla.warnBeforeSeconds ?? 0) : base.slaWarnBeforeMinutes,
    onWarning: escalationForm(q.sla?.onWarning),
    onBreach: escalationForm(q.sla?.onBreach),
  };
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Problems of one day's intervals: malformed, end not after start, or overlapping another. */
export function intervalProblems(intervals: TimeInterval[]): 'invalid' | 'overlap' | null {
  for (const i of intervals) {
    if (!HHMM.test(i.start) || !HHMM.test(i.end) || i.start === '24:00') return 'invalid';
    if (toMinutes(i.end) <= toMinutes(i.start)) return 'invalid';
  }
  const sorted = [...intervals].sort((a, b) => toMinutes(a.start) - toMinutes(b.start));
  for (let k = 1; k < sorted.length; k++) {
    if (toMinutes(sorted[k]!.start) < toMinutes(sorted[k - 1]!.end)) return 'overlap';
  }
  return null;
}

export function isTimeZone(zone: string): boolean {
  if (!zone) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Builds the API body from the form, or lists every problem (as message keys) when it cannot. */
export function queueInputFromForm(f: QueueForm, selfId: string | null): { input: QueueInput; errors: [] } | { input: null; errors: FormError[] } {
  const errors: FormError[] = [];
  const int = (value: string, field: MessageKey, min: number, max = 31_536_000): number | undefined => {
    const v = value.trim();
    const n = Number(v);
    if (v === '' || !Number.isInteger(n) || n < min || n > max) {
      errors.push({ key: 'queues.error.number', params: { field: `{${field}}`, min, max } });
      return undefined;
    }
    return n;
  };
  /** Minutes (may be fractional) to whole seconds; empty → undefined. */
  const minutesToSeconds = (value: string, field: MessageKey): number | undefined => {
    const v = value.trim();
    if (v === '') return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      errors.push({ key: 'queues.error.positive', params: { field: `{${field}}` } });
      return undefined;
    }
    return Math.max(1, Math.round(n * 60));
  };
  const exit = (e: ExitForm): QueueExitAction => {
    switch (e.kind) {
      case 'overflow':
        if (!e.queueId) errors.push({ key: 'queues.error.overflowTarget' });
        else if (e.queueId === selfId) errors.push({ key: 'queues.error.overflowSelf' });
        return { kind: 'overflow', queueId: e.queueId };
      case 'close':
        return { kind: 'close', message: e.message.trim() };
      case 'voicemail':
        return { kind: 'voicemail' };
      default:
        return { kind: 'offline-form' };
    }
  };

  const name = f.name.trim();
  if (!name) errors.push({ key: 'queues.error.name' });

  const skills = new Set<string>();
  const requiredSkills = f.requiredSkills
    .map((r) => ({ skill: r.skill.trim(), minLevel: r.minLevel }))
    .filter((r) => r.skill !== '');
  for (const r of requiredSkills) {
    if (!/^[A-Za-z0-9_.:-]{1,50}$/.test(r.skill)) errors.push({ key: 'queues.error.skillName', params: { skill: r.skill } });
    if (skills.has(r.skill)) errors.push({ key: 'queues.error.skillTwice', params: { skill: r.skill } });
    skills.add(r.skill);
  }

  const input: QueueInput = {
    name,
    strategy: f.strategy,
    members: [...f.members],
    requiredSkills,
    offerTimeoutSeconds: int(f.offerTimeoutSeconds, 'queues.offerTimeout', 1, 3600),
    setAwayOnOfferTimeout: f.setAwayOnOfferTimeout,
    declineCooldownSeconds: int(f.declineCooldownSeconds, 'queues.declineCooldown', 0),
    wrapUpSeconds: int(f.wrapUpSeconds, 'queues.wrapUp', 0),
    priorityWeightSeconds: int(f.priorityWeightSeconds, 'queues.priorityWeight', 0, 86_400),
    lastAgentPreferenceSeconds: int(f.lastAgentPreferenceSeconds, 'queues.lastAgent', 0),
    serviceLevelTargetSeconds: int(f.serviceLevelTargetSeconds, 'queues.serviceLevelTarget', 1, 86_400),
    autoAccept: Object.fromEntries(CHANNELS.filter((c) => f.autoAccept[c]).map((c) => [c, true])),
    outOfHoursAction: exit(f.outOfHours),
    businessHours: null,
    maxWait: null,
    maxQueueSize: null,
    bullseye: [],
    sla: null,
  };

  if (f.hoursEnabled) {
    if (!isTimeZone(f.timeZone.trim())) errors.push({ key: 'queues.error.timeZone', params: { zone: f.timeZone } });
    const weekly: Partial<Record<Weekday, TimeInterval[]>> = {};
    for (const d of WEEKDAYS) {
      const list = f.weekly[d];
      const problem = intervalProblems(list);
      if (problem) errors.push({ key: problem === 'overlap' ? 'queues.error.overlap' : 'queues.error.interval', params: { day: `{weekday.${d}}` } });
      if (list.length > 0) weekly[d] = list.map((i) => ({ start: i.start, end: i.end }));
    }
    const seen = new Set<string>();
    const holidays = f.holidays.map((h) => {
      if (!DATE.test(h.date) || Number.isNaN(Date.parse(`${h.date}T00:00:00Z`))) errors.push({ key: 'queues.error.holidayDate' });
      else if (seen.has(h.date)) errors.push({ key: 'queues.error.holidayTwice', params: { date: h.date } });
      seen.add(h.date);
      const problem = intervalProblems(h.open);
      if (problem) errors.push({ key: problem === 'overlap' ? 'queues.error.overlap' : 'queues.error.interval', params: { day: h.date } });
      return { date: h.date, ...(h.name.trim() ? { name: h.name.trim() } : {}), ...(h.open.length ? { open: h.open } : {}) };
    });
    input.businessHours = { timeZone: f.timeZone.trim(), weekly, holidays };
  }
  if (f.maxWaitEnabled) {
    const seconds = int(f.maxWaitSeconds, 'queues.maxWait', 1);
    if (seconds !== undefined) input.maxWait = { seconds, action: exit(f.maxWaitAction) };
  }
  if (f.maxSizeEnabled) {
    const size = int(f.maxSize, 'queues.maxSize', 1, 1_000_000);
    if (size !== undefined) input.maxQueueSize = { size, action: exit(f.maxSizeAction) };
  }
  const rings: BullseyeRing[] = [];
  for (const r of f.bullseye) {
    const afterSeconds = int(r.afterSeconds, 'queues.ringAfter', 0);
    if (afterSeconds === undefined) continue;
    rings.push({
      afterSeconds,
      ...(r.dropPreferredSkills ? { dropPreferredSkills: true } : {}),
      ...(r.lowerRequiredLevelsBy > 0 ? { lowerRequiredLevelsBy: r.lowerRequiredLevelsBy } : {}),
      ...(r.addQueueMembers.length ? { addQueueMembers: [...r.addQueueMembers] } : {}),
    });
  }
  input.bullseye = rings.sort((a, b) => a.afterSeconds - b.afterSeconds);

  if (f.slaEnabled) {
    const targets: SlaTarget[] = [];
    const mins = new Set<string>();
    for (const tf of f.slaTargets) {
      const t: SlaTarget = {};
      if (tf.minPriority.trim() !== '') {
        const p = Number(tf.minPriority);
        if (!Number.isInteger(p)) errors.push({ key: 'queues.error.number', params: { field: '{queues.slaMinPriority}', min: -100, max: 100 } });
        else t.minPriority = p;
      }
      const key = String(t.minPriority ?? '');
      if (mins.has(key)) errors.push({ key: 'queues.error.slaTwice' });
      mins.add(key);
      const first = minutesToSeconds(tf.firstResponseMinutes, 'sla.firstResponse');
      const next = minutesToSeconds(tf.nextResponseMinutes, 'sla.nextResponse');
      const resolution = minutesToSeconds(tf.resolutionMinutes, 'sla.resolution');
      if (first !== undefined) t.firstResponseSeconds = first;
      if (next !== undefined) t.nextResponseSeconds = next;
      if (resolution !== undefined) t.resolutionSeconds = resolution;
      if (first === undefined && next === undefined && resolution === undefined) errors.push({ key: 'queues.error.slaEmpty' });
      targets.push(t);
    }
    if (targets.length === 0) errors.push({ key: 'queues.error.slaEmpty' });
    const warn = f.slaWarnBeforeMinutes.trim() === '' ? 0 : Number(f.slaWarnBeforeMinutes);
    if (!Number.isFinite(warn) || warn < 0) errors.push({ key: 'queues.error.positive', params: { field: '{queues.slaWarnBefore}' } });
    const escalation = (e: EscalationForm): EscalationAction[] => {
      const list: EscalationAction[] = [];
      if (e.raisePriorityBy.trim() !== '') {
        const by = Number(e.raisePriorityBy);
        if (!Number.isInteger(by) || by < 1 || by > 100) errors.push({ key: 'queues.error.number', params: { field: '{queues.raisePriority}', min: 1, max: 100 } });
        else list.push({ kind: 'raise-priority', by });
      }
      if (e.notifySupervisor) list.push({ kind: 'notify-supervisor' });
      if (e.moveQueueId) {
        if (e.moveQueueId === selfId) errors.push({ key: 'queues.error.overflowSelf' });
        list.push({ kind: 'move-queue', queueId: e.moveQueueId });
      }
      return list;
    };
    input.sla = {
      id: f.slaId.trim() || 'default',
      targets,
      businessHoursOnly: f.slaBusinessHoursOnly,
      warnBeforeSeconds: Math.round((Number.isFinite(warn) && warn > 0 ? warn : 0) * 60),
      onWarning: escalation(f.onWarning),
      onBreach: escalation(f.onBreach),
    };
  }

  if (errors.length > 0) return { input: null, errors };
  return { input, errors: [] };
}
