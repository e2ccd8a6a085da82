import { RoutingError, RoutingErrorCodes } from './errors.ts';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** Local wall-clock interval, `"HH:MM"`; `end` may be `"24:00"`. Must not cross midnight. */
export interface TimeInterval {
  start: string;
  end: string;
}

/** A closed day, or a day with special hours when `open` is given. */
export interface Holiday {
  date: string; // YYYY-MM-DD, local to the time zone
  name?: string;
  open?: TimeInterval[];
}

/**
 * Weekly opening hours in an IANA time zone, with holidays.
 *
 * @example
 * const hours: BusinessHours = {
 *   timeZone: 'America/Mexico_City',
 *   weekly: { mon: [{ start: '09:00', end: '13:00' }, { start: '14:00', end: '18:00' }] },
 *   holidays: [{ date: '2025-12-25', name: 'Navidad' }],
 * };
 */
export interface BusinessHours {
  timeZone: string;
  weekly: Partial<Record<Weekday, TimeInterval[]>>;
  holidays?: Holiday[];
}

type Minutes = readonly [start: number, end: number];

interface CompiledHours {
  zone: ZoneClock;
  week: Minutes[][]; // index 0 = Sunday
  holidays: Map<string, Minutes[]>;
  lastHolidayDay: number;
  hasWeeklyHours: boolean;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const OFFSET_BUCKET = 15 * MINUTE;
/** How far ahead the calculator looks for an opening before answering "never". */
const HORIZON_DAYS = 3_700;

// ---------------------------------------------------------------- validation

const HHMM = /^(\d{2}):(\d{2})$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function parseHhmm(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = HHMM.exec(value);
  if (!m) return undefined;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return undefined;
  return h * 60 + min;
}

function isValidDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === value;
}

export function isValidTimeZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== 'string' || timeZone.length === 0) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

function checkIntervals(value: unknown, path: string, issues: string[]): Minutes[] {
  if (!Array.isArray(value)) {
    issues.push(`${path}: expected an array of {start, end} intervals`);
    return [];
  }
  const out: Minutes[] = [];
  value.forEach((raw: unknown, i) => {
    const iv = raw as Partial<TimeInterval> | null;
    const s = parseHhmm(iv?.start);
    const e = parseHhmm(iv?.end);
    if (s === undefined || e === undefined) {
      issues.push(`${path}[${i}]: start and end must be "HH:MM" between 00:00 and 24:00`);
      return;
    }
    if (e <= s) {
      issues.push(`${path}[${i}]: end ${iv?.end} is not after start ${iv?.start} (intervals may not cross midnight; split them)`);
      return;
    }
    out.push([s, e]);
  });
  out.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < out.length; i++) {
    const prev = out[i - 1]!;
    const cur = out[i]!;
    if (cur[0] < prev[1]) {
      issues.push(`${path}: intervals ${fmt(prev)} and ${fmt(cur)} overlap`);
    }
  }
  return out;
}

function fmt(m: Minutes): string {
  const f = (x: number) => `${String(Math.floor(x / 60)).padStart(2, '0')}:${String(x % 60).padStart(2, '0')}`;
  return `${f(m[0])}-${f(m[1])}`;
}

/**
 * Parses untrusted business hours. Throws `PARLEY_ERR_ROUTING_INVALID_BUSINESS_HOURS` listing
 * every problem: unknown time zone, malformed times, end not after start, overlapping
 * intervals, unknown weekday, malformed or duplicate holiday dates.
 */
export function validateBusinessHours(input: unknown): BusinessHours {
  const issues: string[] = [];
  compileInto(input, issues);
  if (issues.length > 0) {
    throw new RoutingError(
      RoutingErrorCodes.INVALID_BUSINESS_HOURS,
      `Invalid business hours: ${issues.join('; ')}`,
      { issues },
    );
  }
  return input as BusinessHours;
}

function compileInto(input: unknown, issues: string[]): CompiledHours | undefined {
  if (typeof input !== 'object' || input === null) {
    issues.push('business hours must be an object');
    return undefined;
  }
  const raw = input as Record<string, unknown>;
  if (!isValidTimeZone(raw.timeZone)) {
    issues.push(`timeZone: unknown IANA time zone ${JSON.stringify(raw.timeZone)}`);
  }
  const week: Minutes[][] = WEEKDAYS.map(() => []);
  if (typeof raw.weekly !== 'object' || raw.weekly === null) {
    issues.push('weekly: expected an object keyed by sun..sat');
  } else {
    for (const [key, value] of Object.entries(raw.weekly)) {
      const idx = (WEEKDAYS as readonly string[]).indexOf(key);
      if (idx < 0) {
        issues.push(`weekly.${key}: unknown weekday (use ${WEEKDAYS.join(', ')})`);
        continue;
      }
      week[idx] = checkIntervals(value, `weekly.${key}`, issues);
    }
  }
  const holidays = new Map<string, Minutes[]>();
  let lastHolidayDay = 0;
  if (raw.holidays !== undefined) {
    if (!Array.isArray(raw.holidays)) {
      issues.push('holidays: expected an array');
    } else {
      raw.holidays.forEach((h: unknown, i) => {
        const hol = h as Partial<Holiday> | null;
        if (!isValidDate(hol?.date)) {
          issues.push(`holidays[${i}].date: expected a real date YYYY-MM-DD, got ${JSON.stringify(hol?.date)}`);
          return;
        }
        if (holidays.has(hol.date)) {
          issues.push(`holidays[${i}]: date ${hol.date} is listed twice`);
          return;
        }
        const open = hol.open === undefined ? [] : checkIntervals(hol.open, `holidays[${i}].open`, issues);
        holidays.set(hol.date, open);
        lastHolidayDay = Math.max(lastHolidayDay, Date.parse(`${hol.date}T00:00:00Z`));
      });
    }
  }
  if (issues.length > 0) return undefined;
  return {
    zone: zoneClock(raw.timeZone as string),
    week,
    holidays,
    lastHolidayDay,
    hasWeeklyHours: week.some((d) => d.length > 0),
  };
}

const compiledCache = new WeakMap<BusinessHours, CompiledHours>();

function compile(hours: BusinessHours): CompiledHours {
  let c = compiledCache.get(hours);
  if (!c) {
    const issues: string[] = [];
    c = compileInto(hours, issues);
    if (!c) {
      throw new RoutingError(RoutingErrorCodes.INVALID_BUSINESS_HOURS, `Invalid business hours: ${issues.join('; ')}`, { issues });
    }
    compiledCache.set(hours, c);
  }
  return c;
}

// ---------------------------------------------------------------- time zone arithmetic

/**
 * UTC offset lookups for one zone. Intl formatting is slow (~µs), so offsets are cached per
 * 15-minute bucket: every real-world transition since 1970 falls on a quarter hour.
 */
interface ZoneClock {
  offsetAt(t: number): number;
}

const zones = new Map<string, ZoneClock>();

function zoneClock(timeZone: string): ZoneClock {
  let z = zones.get(timeZone);
  if (z) return z;
  const fmtr = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const cache = new Map<number, number>();
  z = {
    offsetAt(t: number): number {
      const bucket = Math.floor(t / OFFSET_BUCKET);
      let off = cache.get(bucket);
      if (off === undefined) {
        const at = bucket * OFFSET_BUCKET;
        const p: Record<string, number> = {};
        for (const part of fmtr.formatToParts(at)) {
          if (part.type !== 'literal') p[part.type] = Number(part.value);
        }
        const hour = p.hour === 24 ? 0 : (p.hour ?? 0);
        off = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, hour, p.minute ?? 0, p.second ?? 0) - at;
        if (cache.size > 50_000) cache.clear();
        cache.set(bucket, off);
      }
      return off;
    },
  };
  zones.set(timeZone, z);
  return z;
}

/**
 * The instant at which the local wall clock shows `wall` (a local time written as if it were
 * UTC). Ambiguous times (clocks go back) take the first occurrence; times that do not exist
 * (clocks go forward) take the instant the clock jumps over them.
 */
function wallToInstant(zone: ZoneClock, wall: number): number {
  let best: number | undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const probe of [wall - DAY / 2, wall, wall + DAY / 2]) {
    const o = zone.offsetAt(probe);
    const t = wall - o;
    lo = Math.min(lo, t);
    hi = Math.max(hi, t);
    if (zone.offsetAt(t) === o && (best === undefined || t < best)) best = t;
  }
  if (best !== undefined) return best;
  // In a gap: find the transition between the two candidate instants.
  const base = zone.offsetAt(lo);
  for (let b = Math.floor(lo / OFFSET_BUCKET) * OFFSET_BUCKET + OFFSET_BUCKET; b <= hi; b += OFFSET_BUCKET) {
    if (zone.offsetAt(b) !== base) return b;
  }
  return hi;
}

function localDayStart(zone: ZoneClock, t: number): number {
  const local = t + zone.offsetAt(t);
  return local - (((local % DAY) + DAY) % DAY);
}

/** The instant the day containing `t` began in `timeZone` (local midnight, or the first instant after it when clocks jumped over it). */
export function startOfLocalDay(timeZone: string, t: number): number {
  const zone = zoneClock(timeZone);
  return wallToInstant(zone, localDayStart(zone, t));
}

function dayKey(localDay: number): string {
  return new Date(localDay).toISOString().slice(0, 10);
}

/** Open intervals `[start, end)` (UTC ms) that end after `from`, in order, clipped to start at `from` or later. */
function* openIntervals(c: CompiledHours, from: number): Generator<[number, number]> {
  let day = localDayStart(c.zone, from) - DAY; // yesterday too, in case of odd offsets
  const lastDay = Math.max(from + HORIZON_DAYS * DAY, c.lastHolidayDay + DAY);
  for (; day <= lastDay; day += DAY) {
    if (!c.hasWeeklyHours && day > c.lastHolidayDay) return;
    const special = c.holidays.get(dayKey(day));
    const mins = special ?? c.week[new Date(day).getUTCDay()]!;
    for (const [s, e] of mins) {
      const start = wallToInstant(c.zone, day + s * MINUTE);
      const end = wallToInstant(c.zone, day + e * MINUTE);
      if (end <= from || end <= start) continue;
      yield [Math.max(start, from), end];
    }
  }
}

// ---------------------------------------------------------------- public calculator

/** True when `t` (UTC ms) falls inside an opening of `hours`. */
export function isOpen(hours: BusinessHours, t: number): boolean {
  const first = openIntervals(compile(hours), t).next();
  return !first.done && first.value[0] <= t;
}

/** `t` itself when open, otherwise the next opening instant; `null` when never open again. */
export function nextOpenTime(hours: BusinessHours, t: number): number | null {
  const first = openIntervals(compile(hours), t).next();
  return first.done ? null : first.value[0];
}

/**
 * Whether the queue is open at `t` and until when that answer holds (the next close or open
 * instant; `null` = forever).
 */
export function openStateAt(hours: BusinessHours, t: number): { open: boolean; until: number | null } {
  const it = openIntervals(compile(hours), t);
  const first = it.next();
  if (first.done) return { open: false, until: null };
  const [s, e] = first.value;
  if (s > t) return { open: false, until: s };
  // Touching intervals (a day ending 24:00, the next starting 00:00) are one opening; merge
  // a bounded number so an always-open schedule still answers quickly.
  let until = e;
  let merged = 0;
  for (let next = it.next(); !next.done && next.value[0] <= until && merged < 16; next = it.next(), merged++) {
    until = Math.max(until, next.value[1]);
  }
  return { open: true, until };
}

/**
 * The instant reached after `seconds` of open time from `t`. Closed time does not count.
 * Returns `null` when the schedule never accumulates that much open time.
 */
export function addBusinessSeconds(hours: BusinessHours, t: number, seconds: number): number | null {
  if (seconds <= 0) return t;
  let remaining = seconds * 1000;
  for (const [s, e] of openIntervals(compile(hours), t)) {
    const span = e - s;
    if (remaining <= span) return s + remaining;
    remaining -= span;
  }
  return null;
}

/** Open seconds between `a` and `b` (0 when b <= a). */
export function businessSecondsBetween(hours: BusinessHours, a: number, b: number): number {
  if (b <= a) return 0;
  let total = 0;
  for (const [s, e] of openIntervals(compile(hours), a)) {
    if (s >= b) break;
    total += Math.min(e, b) - s;
  }
  return total / 1000;
}
