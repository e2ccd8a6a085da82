import { addBusinessSeconds, type BusinessHours } from './business-hours.ts';
import { RoutingError, RoutingErrorCodes } from './errors.ts';

export type SlaClockKind = 'first-response' | 'next-response' | 'resolution';
export const SLA_CLOCKS: readonly SlaClockKind[] = ['first-response', 'next-response', 'resolution'];

/** Targets for items whose priority is at least `minPriority` (default: every priority). */
export interface SlaTarget {
  minPriority?: number;
  firstResponseSeconds?: number;
  nextResponseSeconds?: number;
  resolutionSeconds?: number;
}

export type EscalationAction =
  | { kind: 'raise-priority'; by: number }
  | { kind: 'notify-supervisor' }
  | { kind: 'move-queue'; queueId: string };

/**
 * A queue's SLA policy (CC-9).
 *
 * @example
 * const policy: SlaPolicy = {
 *   id: 'support',
 *   targets: [{ firstResponseSeconds: 3600, resolutionSeconds: 86400 }, { minPriority: 5, firstResponseSeconds: 600 }],
 *   businessHoursOnly: true,
 *   warnBeforeSeconds: 300,
 *   onBreach: [{ kind: 'raise-priority', by: 2 }, { kind: 'notify-supervisor' }],
 * };
 */
export interface SlaPolicy {
  id: string;
  targets: SlaTarget[];
  /** Count only the queue's business hours. */
  businessHoursOnly?: boolean;
  warnBeforeSeconds?: number;
  onWarning?: EscalationAction[];
  onBreach?: EscalationAction[];
}

export interface SlaDue {
  clock: SlaClockKind;
  startedAt: number;
  warnAt: number;
  dueAt: number;
}

const TARGET_FIELD: Record<SlaClockKind, keyof SlaTarget> = {
  'first-response': 'firstResponseSeconds',
  'next-response': 'nextResponseSeconds',
  resolution: 'resolutionSeconds',
};

/** The target that applies to `priority`: the one with the highest `minPriority` not above it. */
export function selectSlaTarget(policy: SlaPolicy, priority: number): SlaTarget | undefined {
  let best: SlaTarget | undefined;
  for (const t of policy.targets) {
    const min = t.minPriority ?? -Infinity;
    if (min <= priority && (best === undefined || min > (best.minPriority ?? -Infinity))) best = t;
  }
  return best;
}

/**
 * When the `clock` started at `startedAt` is due, and when to warn. With `businessHoursOnly`
 * and hours given, only open time counts. `null` when the policy sets no target for the clock
 * at this priority, or the hours never accumulate enough open time.
 */
export function computeSlaDue(
  policy: SlaPolicy,
  clock: SlaClockKind,
  startedAt: number,
  priority: number,
  hours?: BusinessHours,
): SlaDue | null {
  const target = selectSlaTarget(policy, priority);
  const seconds = target?.[TARGET_FIELD[clock]];
  if (seconds === undefined) return null;
  const warnBefore = Math.min(policy.warnBeforeSeconds ?? 0, seconds);
  if (policy.businessHoursOnly && hours) {
    const dueAt = addBusinessSeconds(hours, startedAt, seconds);
    const warnAt = addBusinessSeconds(hours, startedAt, seconds - warnBefore);
    if (dueAt === null || warnAt === null) return null;
    return { clock, startedAt, warnAt, dueAt };
  }
  const dueAt = startedAt + seconds * 1000;
  return { clock, startedAt, warnAt: dueAt - warnBefore * 1000, dueAt };
}

export function slaStatus(due: Pick<SlaDue, 'warnAt' | 'dueAt'>, now: number): 'ok' | 'warning' | 'breached' {
  if (now >= due.dueAt) return 'breached';
  if (now >= due.warnAt) return 'warning';
  return 'ok';
}

/** Parses an untrusted SLA policy; throws `PARLEY_ERR_ROUTING_INVALID_CONFIG` listing every problem. */
export function validateSlaPolicy(input: unknown): SlaPolicy {
  const issues: string[] = [];
  const p = input as Partial<SlaPolicy> | null;
  if (typeof p !== 'object' || p === null) issues.push('policy must be an object');
  else {
    if (typeof p.id !== 'string' || p.id === '') issues.push('id: required');
    if (!Array.isArray(p.targets) || p.targets.length === 0) issues.push('targets: at least one target');
    else {
      const seen = new Set<number>();
      p.targets.forEach((t, i) => {
        const min = t.minPriority ?? -Infinity;
        if (seen.has(min)) issues.push(`targets[${i}]: another target has the same minPriority`);
        seen.add(min);
        for (const f of Object.values(TARGET_FIELD)) {
          const v = t[f];
          if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
            issues.push(`targets[${i}].${f}: must be a positive number of seconds`);
          }
        }
      });
    }
    if (p.warnBeforeSeconds !== undefined && !(p.warnBeforeSeconds >= 0)) issues.push('warnBeforeSeconds: must be >= 0');
  }
  if (issues.length > 0) {
    throw new RoutingError(RoutingErrorCodes.INVALID_CONFIG, `Invalid SLA policy: ${issues.join('; ')}`, { issues });
  }
  return input as SlaPolicy;
}
