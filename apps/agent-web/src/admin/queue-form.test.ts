import { describe, expect, it } from 'vitest';
import type { Queue } from '../api/types';
import { emptyQueueForm, formFromQueue, intervalProblems, queueInputFromForm } from './queue-form';

const queue: Queue = {
  id: 'q-1', name: 'Support', isDefault: false, createdAt: '', updatedAt: '',
  strategy: 'best-skill-match', members: ['u1', 'u2'], requiredSkills: [{ skill: 'spanish', minLevel: 3 }],
  businessHours: {
    timeZone: 'America/Mexico_City',
    weekly: { mon: [{ start: '09:00', end: '13:00' }, { start: '14:00', end: '18:00' }], sat: [{ start: '10:00', end: '14:00' }] },
    holidays: [{ date: '2026-12-25', name: 'Navidad' }],
  },
  outOfHoursAction: { kind: 'overflow', queueId: 'q-2' },
  maxWait: { seconds: 300, action: { kind: 'close', message: 'Sorry' } },
  maxQueueSize: null,
  offerTimeoutSeconds: 20, setAwayOnOfferTimeout: true, autoAccept: { email: true }, declineCooldownSeconds: 30,
  bullseye: [{ afterSeconds: 60, lowerRequiredLevelsBy: 1 }, { afterSeconds: 30, dropPreferredSkills: true }],
  priorityWeightSeconds: 60, lastAgentPreferenceSeconds: 0, wrapUpSeconds: 15, serviceLevelTargetSeconds: 20,
  sla: { id: 'std', targets: [{ firstResponseSeconds: 300, resolutionSeconds: 86_400 }, { minPriority: 3, firstResponseSeconds: 90 }],
    businessHoursOnly: true, warnBeforeSeconds: 60, onBreach: [{ kind: 'raise-priority', by: 2 }, { kind: 'notify-supervisor' }] },
};

describe('queue form', () => {
  it('round-trips a queue through the form to the same API body', () => {
    const r = queueInputFromForm(formFromQueue(queue), 'q-1');
    expect(r.errors).toEqual([]);
    expect(r.input).toEqual({
      name: 'Support', strategy: 'best-skill-match', members: ['u1', 'u2'], requiredSkills: [{ skill: 'spanish', minLevel: 3 }],
      offerTimeoutSeconds: 20, setAwayOnOfferTimeout: true, declineCooldownSeconds: 30, wrapUpSeconds: 15,
      priorityWeightSeconds: 60, lastAgentPreferenceSeconds: 0, serviceLevelTargetSeconds: 20, autoAccept: { email: true },
      outOfHoursAction: { kind: 'overflow', queueId: 'q-2' },
      businessHours: queue.businessHours,
      maxWait: { seconds: 300, action: { kind: 'close', message: 'Sorry' } },
      maxQueueSize: null,
      // Rings are kept in the order they apply.
      bullseye: [{ afterSeconds: 30, dropPreferredSkills: true }, { afterSeconds: 60, lowerRequiredLevelsBy: 1 }],
      sla: {
        id: 'std', targets: [{ firstResponseSeconds: 300, resolutionSeconds: 86_400 }, { minPriority: 3, firstResponseSeconds: 90 }],
        businessHoursOnly: true, warnBeforeSeconds: 60, onWarning: [], onBreach: [{ kind: 'raise-priority', by: 2 }, { kind: 'notify-supervisor' }],
      },
    });
  });

  it('a new queue is always open and has no SLA until switched on', () => {
    const r = queueInputFromForm(emptyQueueForm('Sales'), null);
    expect(r.input).toMatchObject({ name: 'Sales', businessHours: null, sla: null, maxWait: null, offerTimeoutSeconds: 30 });
  });

  it('finds malformed, reversed and overlapping intervals', () => {
    expect(intervalProblems([{ start: '09:00', end: '12:00' }, { start: '13:00', end: '24:00' }])).toBeNull();
    expect(intervalProblems([{ start: '12:00', end: '09:00' }])).toBe('invalid');
    expect(intervalProblems([{ start: '9:00', end: '12:00' }])).toBe('invalid');
    expect(intervalProblems([{ start: '24:00', end: '24:00' }])).toBe('invalid');
    expect(intervalProblems([{ start: '09:00', end: '12:00' }, { start: '11:59', end: '14:00' }])).toBe('overlap');
    expect(intervalProblems([{ start: '13:00', end: '14:00' }, { start: '09:00', end: '13:00' }])).toBeNull();
  });

  it('lists every problem instead of sending a bad body', () => {
    const f = formFromQueue(queue);
    f.name = ' ';
    f.offerTimeoutSeconds = '0';
    f.timeZone = 'Mars/Olympus';
    f.weekly.tue = [{ start: '10:00', end: '12:00' }, { start: '11:00', end: '13:00' }];
    f.holidays.push({ date: '2026-12-25', name: 'again', open: [] });
    f.outOfHours = { kind: 'overflow', queueId: 'q-1', message: '' };
    f.slaTargets = [{ minPriority: '', firstResponseMinutes: '', nextResponseMinutes: '', resolutionMinutes: '' }];
    f.requiredSkills.push({ skill: 'has space', minLevel: 1 });
    const r = queueInputFromForm(f, 'q-1');
    expect(r.input).toBeNull();
    expect(r.errors.map((e) => e.key).sort()).toEqual([
      'queues.error.holidayTwice', 'queues.error.name', 'queues.error.number', 'queues.error.overflowSelf',
      'queues.error.overlap', 'queues.error.skillName', 'queues.error.slaEmpty', 'queues.error.timeZone',
    ]);
  });

  it('turns SLA minutes into whole seconds', () => {
    const f = emptyQueueForm('Fast');
    f.slaEnabled = true;
    f.slaTargets = [{ minPriority: '', firstResponseMinutes: '0.5', nextResponseMinutes: '2', resolutionMinutes: '' }];
    f.slaWarnBeforeMinutes = '0.25';
    const r = queueInputFromForm(f, null);
    expect(r.input?.sla).toMatchObject({ targets: [{ firstResponseSeconds: 30, nextResponseSeconds: 120 }], warnBeforeSeconds: 15 });
  });
});
