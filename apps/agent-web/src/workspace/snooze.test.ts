import { describe, expect, it } from 'vitest';
import { snoozeUntil } from './snooze';

describe('snoozeUntil', () => {
  const wednesday = new Date(2025, 0, 15, 16, 30); // Wed 15 Jan 2025, 16:30 local
  it('adds one hour', () => {
    expect(snoozeUntil('snooze1h', wednesday).getTime() - wednesday.getTime()).toBe(3600_000);
  });
  it('wakes up tomorrow at 9:00', () => {
    expect(snoozeUntil('snoozeTomorrow', wednesday)).toEqual(new Date(2025, 0, 16, 9, 0));
  });
  it('wakes up next Monday at 9:00, also from a Monday or a Sunday', () => {
    expect(snoozeUntil('snoozeNextWeek', wednesday)).toEqual(new Date(2025, 0, 20, 9, 0));
    expect(snoozeUntil('snoozeNextWeek', new Date(2025, 0, 20, 8, 0))).toEqual(new Date(2025, 0, 27, 9, 0));
    expect(snoozeUntil('snoozeNextWeek', new Date(2025, 0, 19, 22, 0))).toEqual(new Date(2025, 0, 20, 9, 0));
  });
});
