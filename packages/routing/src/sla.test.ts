import { describe, expect, it } from 'vitest';
import type { BusinessHours } from './business-hours.ts';
import { isRoutingError } from './errors.ts';
import { computeSlaDue, selectSlaTarget, slaStatus, validateSlaPolicy, type SlaPolicy } from './sla.ts';

const policy: SlaPolicy = {
  id: 'support',
  targets: [
    { firstResponseSeconds: 4 * 3600, nextResponseSeconds: 8 * 3600, resolutionSeconds: 24 * 3600 },
    { minPriority: 5, firstResponseSeconds: 15 * 60, resolutionSeconds: 4 * 3600 },
  ],
  warnBeforeSeconds: 600,
};
const hours: BusinessHours = { timeZone: 'America/Sao_Paulo', weekly: { mon: [{ start: '09:00', end: '18:00' }], tue: [{ start: '09:00', end: '18:00' }] } };

describe('SLA clocks', () => {
  it('picks the target of the highest matching priority band', () => {
    expect(selectSlaTarget(policy, 0)?.firstResponseSeconds).toBe(4 * 3600);
    expect(selectSlaTarget(policy, 7)?.firstResponseSeconds).toBe(15 * 60);
  });

  it('computes calendar due and warning times', () => {
    const start = Date.UTC(2025, 5, 2, 12, 0);
    expect(computeSlaDue(policy, 'first-response', start, 0)).toEqual({ clock: 'first-response', startedAt: start, dueAt: start + 4 * 3600_000, warnAt: start + 4 * 3600_000 - 600_000 });
    expect(computeSlaDue(policy, 'next-response', start, 9)).toBeNull(); // high band sets no next-response target
  });

  it('counts only business hours when the policy says so (São Paulo, UTC-3)', () => {
    const bh: SlaPolicy = { ...policy, businessHoursOnly: true };
    // Mon 2 Jun 2025 17:00 local + 4 business hours = 1h Monday + 3h Tuesday → Tue 12:00 local = 15:00 UTC
    const due = computeSlaDue(bh, 'first-response', Date.UTC(2025, 5, 2, 20, 0), 0, hours)!;
    expect(due.dueAt).toBe(Date.UTC(2025, 5, 3, 15, 0));
    expect(due.warnAt).toBe(Date.UTC(2025, 5, 3, 14, 50));
    // Friday evening: nothing until Monday 09:00 local
    const fri = computeSlaDue(bh, 'first-response', Date.UTC(2025, 5, 6, 22, 0), 9, hours)!;
    expect(fri.dueAt).toBe(Date.UTC(2025, 5, 9, 12, 15));
  });

  it('reports warning and breach by time', () => {
    const due = { warnAt: 100, dueAt: 200 };
    expect([slaStatus(due, 50), slaStatus(due, 100), slaStatus(due, 200)]).toEqual(['ok', 'warning', 'breached']);
  });

  it('rejects a policy with non-positive targets or duplicate bands', () => {
    expect(() => validateSlaPolicy({ id: 'x', targets: [{ firstResponseSeconds: -1 }] })).toThrow(/positive/);
    expect(() => validateSlaPolicy({ id: 'x', targets: [{ minPriority: 1 }, { minPriority: 1 }] })).toThrow(/same minPriority/);
    try {
      validateSlaPolicy(null);
    } catch (err) {
      expect(isRoutingError(err, 'PARLEY_ERR_ROUTING_INVALID_CONFIG')).toBe(true);
    }
  });
});
