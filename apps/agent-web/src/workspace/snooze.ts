export type SnoozeChoice = 'snooze1h' | 'snoozeTomorrow' | 'snoozeNextWeek';

/** When a snooze ends: in an hour, tomorrow 9:00, or next Monday 9:00 (the agent's local time). */
export function snoozeUntil(choice: SnoozeChoice, now = new Date()): Date {
  if (choice === 'snooze1h') return new Date(now.getTime() + 3600_000);
  const d = new Date(now);
  d.setHours(9, 0, 0, 0);
  if (choice === 'snoozeTomorrow') d.setDate(d.getDate() + 1);
  else d.setDate(d.getDate() + ((8 - d.getDay()) % 7 || 7));
  return d;
}
