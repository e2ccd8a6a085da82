import { describe, expect, it } from 'vitest';
import { addBusinessSeconds, businessSecondsBetween, isOpen, nextOpenTime, openStateAt, startOfLocalDay, validateBusinessHours, type BusinessHours } from './business-hours.ts';
import { isRoutingError, RoutingErrorCodes } from './errors.ts';

const HOUR = 3_600_000;
const mx: BusinessHours = {
  timeZone: 'America/Mexico_City',
  weekly: {
    mon: [{ start: '09:00', end: '13:00' }, { start: '14:00', end: '18:00' }],
    tue: [{ start: '09:00', end: '13:00' }, { start: '14:00', end: '18:00' }],
    wed: [{ start: '09:00', end: '18:00' }],
    sat: [{ start: '01:00', end: '04:00' }],
    sun: [{ start: '01:00', end: '04:00' }],
  },
  holidays: [{ date: '2025-09-16', name: 'Independencia' }, { date: '2025-12-24', open: [{ start: '09:00', end: '12:00' }] }],
};

describe('business hours', () => {
  it('is open inside an interval and closed at lunch, in the queue time zone (UTC-6)', () => {
    expect(isOpen(mx, Date.UTC(2025, 8, 15, 15, 0))).toBe(true); // Mon 09:00 local
    expect(isOpen(mx, Date.UTC(2025, 8, 15, 19, 30))).toBe(false); // Mon 13:30 local (lunch)
    expect(isOpen(mx, Date.UTC(2025, 8, 15, 14, 59))).toBe(false); // Mon 08:59 local
    expect(isOpen(mx, Date.UTC(2025, 8, 16, 0, 0))).toBe(false); // end of Mon 18:00 is exclusive
  });

  it('closes on a holiday and opens special hours on a holiday with hours', () => {
    expect(isOpen(mx, Date.UTC(2025, 8, 16, 16, 0))).toBe(false); // Tue 16 Sep, 10:00 local — holiday
    expect(nextOpenTime(mx, Date.UTC(2025, 8, 16, 16, 0))).toBe(Date.UTC(2025, 8, 17, 15, 0)); // Wed 09:00
    expect(isOpen(mx, Date.UTC(2025, 11, 24, 16, 0))).toBe(true); // Wed 24 Dec 10:00 local
    expect(isOpen(mx, Date.UTC(2025, 11, 24, 19, 0))).toBe(false); // 13:00 local: special hours ended
  });

  it('finds the next opening after lunch and over a weekend', () => {
    expect(nextOpenTime(mx, Date.UTC(2025, 8, 15, 19, 30))).toBe(Date.UTC(2025, 8, 15, 20, 0));
    // Thu 18:00 local → next opening Sat 01:00 local (07:00 UTC)
    expect(nextOpenTime(mx, Date.UTC(2025, 8, 19, 0, 0))).toBe(Date.UTC(2025, 8, 20, 7, 0));
    expect(openStateAt(mx, Date.UTC(2025, 8, 15, 15, 0))).toEqual({ open: true, until: Date.UTC(2025, 8, 15, 19, 0) });
  });

  it('adds business seconds across lunch and nights only', () => {
    // Mon 12:00 local + 3h business = 12:00–13:00 (1h) + 14:00–16:00 (2h) → 16:00 local
    expect(addBusinessSeconds(mx, Date.UTC(2025, 8, 15, 18, 0), 3 * 3600)).toBe(Date.UTC(2025, 8, 15, 22, 0));
    // Mon 17:00 local + 2h → 1h Mon, then Tue is a holiday, Wed 09:00 + 1h = 10:00 local
    expect(addBusinessSeconds(mx, Date.UTC(2025, 8, 15, 23, 0), 2 * 3600)).toBe(Date.UTC(2025, 8, 17, 16, 0));
    expect(businessSecondsBetween(mx, Date.UTC(2025, 8, 15, 15, 0), Date.UTC(2025, 8, 16, 6, 0))).toBe(8 * 3600);
  });

  it('follows a DST change in Mexico City (2022, when it still had DST)', () => {
    const hours: BusinessHours = { timeZone: 'America/Mexico_City', weekly: { sun: [{ start: '09:00', end: '17:00' }], sat: [{ start: '09:00', end: '17:00' }] } };
    // Sat 2 Apr 2022 09:00 CST = 15:00 UTC; Sun 3 Apr 09:00 CDT = 14:00 UTC
    expect(nextOpenTime(hours, Date.UTC(2022, 3, 2, 0, 0))).toBe(Date.UTC(2022, 3, 2, 15, 0));
    expect(nextOpenTime(hours, Date.UTC(2022, 3, 3, 0, 0))).toBe(Date.UTC(2022, 3, 3, 14, 0));
    // Sun 30 Oct 2022 (back to CST): 09:00 local = 15:00 UTC
    expect(nextOpenTime(hours, Date.UTC(2022, 9, 30, 6, 0))).toBe(Date.UTC(2022, 9, 30, 15, 0));
    // The spring-forward Sunday has 8 open hours, counted in real elapsed time
    expect(businessSecondsBetween(hours, Date.UTC(2022, 3, 3, 0, 0), Date.UTC(2022, 3, 4, 0, 0))).toBe(8 * 3600);
  });

  it('opens at the jump when an interval starts inside a skipped hour (São Paulo, 4 Nov 2018 00:00 → 01:00)', () => {
    const hours: BusinessHours = { timeZone: 'America/Sao_Paulo', weekly: { sun: [{ start: '00:00', end: '06:00' }] } };
    // Midnight did not exist; the day opened at 01:00 -02 = 03:00 UTC and ran 5 real hours.
    expect(nextOpenTime(hours, Date.UTC(2018, 10, 4, 0, 0))).toBe(Date.UTC(2018, 10, 4, 3, 0));
    expect(businessSecondsBetween(hours, Date.UTC(2018, 10, 3, 0, 0), Date.UTC(2018, 10, 5, 0, 0))).toBe(5 * 3600);
    // Today São Paulo has no DST: a plain UTC-3 Sunday
    expect(nextOpenTime(hours, Date.UTC(2025, 10, 2, 0, 0))).toBe(Date.UTC(2025, 10, 2, 3, 0));
  });

  it('answers null when a schedule is never open', () => {
    const never: BusinessHours = { timeZone: 'UTC', weekly: {} };
    expect(nextOpenTime(never, 0)).toBeNull();
    expect(addBusinessSeconds(never, 0, 60)).toBeNull();
    expect(isOpen(never, 0)).toBe(false);
  });

  it('is always open with 00:00–24:00 every day and answers quickly', () => {
    const all = Object.fromEntries(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'].map((d) => [d, [{ start: '00:00', end: '24:00' }]]));
    const hours: BusinessHours = { timeZone: 'Europe/Madrid', weekly: all };
    const s = openStateAt(hours, Date.UTC(2025, 0, 1));
    expect(s.open).toBe(true);
    expect(s.until! - Date.UTC(2025, 0, 1)).toBeGreaterThan(10 * 24 * HOUR);
    expect(addBusinessSeconds(hours, Date.UTC(2025, 0, 1), 86_400)).toBe(Date.UTC(2025, 0, 2));
  });

  it.each([
    [{ timeZone: 'Mars/Olympus', weekly: {} }, 'unknown IANA time zone'],
    [{ timeZone: 'UTC', weekly: { mon: [{ start: '18:00', end: '09:00' }] } }, 'is not after start'],
    [{ timeZone: 'UTC', weekly: { mon: [{ start: '09:00', end: '13:00' }, { start: '12:00', end: '15:00' }] } }, 'overlap'],
    [{ timeZone: 'UTC', weekly: { mon: [{ start: '9am', end: '13:00' }] } }, 'HH:MM'],
    [{ timeZone: 'UTC', weekly: { funday: [] } }, 'unknown weekday'],
    [{ timeZone: 'UTC', weekly: {}, holidays: [{ date: '2025-02-30' }] }, 'real date'],
    [{ timeZone: 'UTC', weekly: {}, holidays: [{ date: '2025-01-01' }, { date: '2025-01-01' }] }, 'listed twice'],
  ])('rejects contradictory hours %#', (input, message) => {
    try {
      validateBusinessHours(input);
      expect.unreachable();
    } catch (err) {
      expect(isRoutingError(err, RoutingErrorCodes.INVALID_BUSINESS_HOURS)).toBe(true);
      expect((err as Error).message).toContain(message);
    }
  });

  it('accepts touching intervals and returns the input', () => {
    const h = { timeZone: 'UTC', weekly: { mon: [{ start: '09:00', end: '12:00' }, { start: '12:00', end: '24:00' }] } };
    expect(validateBusinessHours(h)).toBe(h);
  });
});

describe('startOfLocalDay', () => {
  it('is local midnight in the zone, also across daylight saving changes', () => {
    // 21:00 on Nov 21 in Mexico City (UTC-6) is 03:00 UTC on Nov 22; its day began at 06:00 UTC on Nov 21.
    expect(startOfLocalDay('America/Mexico_City', Date.UTC(2026, 10, 22, 3, 0))).toBe(Date.UTC(2026, 10, 21, 6, 0));
    expect(startOfLocalDay('UTC', Date.UTC(2026, 10, 22, 3, 0))).toBe(Date.UTC(2026, 10, 22, 0, 0));
    // São Paulo has no daylight saving since 2019 (UTC-3); New York springs forward at 02:00 on 2026-03-08.
    expect(startOfLocalDay('America/Sao_Paulo', Date.UTC(2026, 0, 10, 2, 0))).toBe(Date.UTC(2026, 0, 9, 3, 0));
    expect(startOfLocalDay('America/New_York', Date.UTC(2026, 2, 8, 20, 0))).toBe(Date.UTC(2026, 2, 8, 5, 0));
  });
});
