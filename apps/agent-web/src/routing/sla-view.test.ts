import { describe, expect, it } from 'vitest';
import type { Message, SlaDueView } from '../api/types';
import { applySlaEvent, effectiveSlaStatus, pickSlaBadge, runningClocks } from './sla-view';

const T0 = Date.parse('2026-11-22T12:00:00.000Z');
const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();

describe('SLA badge', () => {
  it('turns breached at the due time without waiting for the server', () => {
    const c: SlaDueView = { clock: 'first-response', dueAt: at(0), status: 'warning' };
    expect(effectiveSlaStatus(c, T0 - 1)).toBe('warning');
    expect(effectiveSlaStatus(c, T0)).toBe('breached');
  });

  it('shows the worst clock, then the earliest due', () => {
    const clocks: SlaDueView[] = [
      { clock: 'resolution', dueAt: at(3_600_000), status: 'ok' },
      { clock: 'first-response', dueAt: at(600_000), status: 'ok' },
    ];
    expect(pickSlaBadge(clocks, T0)).toEqual({ clock: 'first-response', dueAt: at(600_000), status: 'ok', remainingMs: 600_000 });
    const warned = applySlaEvent(clocks, { clock: 'resolution', status: 'warning', dueAt: at(3_600_000) });
    expect(pickSlaBadge(warned, T0)?.clock).toBe('resolution');
    expect(pickSlaBadge(warned, T0 + 700_000)).toMatchObject({ clock: 'first-response', status: 'breached', remainingMs: -100_000 });
  });

  it('has nothing to show without clocks, and skips unreadable dates', () => {
    expect(pickSlaBadge(undefined, T0)).toBeNull();
    expect(pickSlaBadge([], T0)).toBeNull();
    expect(pickSlaBadge([{ clock: 'resolution', dueAt: 'soon', status: 'ok' }], T0)).toBeNull();
  });

  it('replaces the clock an event names and keeps the others', () => {
    const next = applySlaEvent([{ clock: 'first-response', dueAt: at(1), status: 'ok' }, { clock: 'resolution', dueAt: at(2), status: 'ok' }],
      { clock: 'first-response', status: 'breached', dueAt: at(1) });
    expect(next).toHaveLength(2);
    expect(next.find((c) => c.clock === 'first-response')?.status).toBe('breached');
  });
});

describe('running SLA clocks', () => {
  const clocks: SlaDueView[] = [
    { clock: 'first-response', dueAt: at(60_000), status: 'warning' },
    { clock: 'resolution', dueAt: at(3_600_000), status: 'ok' },
  ];
  const msg = (direction: 'in' | 'out', isPrivate = false) => ({ direction, private: isPrivate }) as Message;

  it('keeps response clocks while the customer waits for a reply', () => {
    expect(runningClocks(clocks, { status: 'open', lastMessage: msg('in') })).toEqual(clocks);
    expect(runningClocks(clocks, { status: 'open', lastMessage: null })).toEqual(clocks);
    // A private note is no answer to the customer.
    expect(runningClocks(clocks, { status: 'open', lastMessage: msg('out', true) })).toEqual(clocks);
  });

  it('drops response clocks once the team replied, and every clock once resolved', () => {
    expect(runningClocks(clocks, { status: 'open', lastMessage: msg('out') }).map((c) => c.clock)).toEqual(['resolution']);
    expect(runningClocks(clocks, { status: 'resolved', lastMessage: msg('in') })).toEqual([]);
    expect(runningClocks(undefined, { status: 'open', lastMessage: null })).toEqual([]);
  });
});
