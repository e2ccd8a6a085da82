import type { Conversation, SlaClock, SlaDueView, SlaStatus } from '../api/types';

export interface SlaBadgeView {
  clock: SlaClock;
  dueAt: string;
  status: SlaStatus;
  /** Milliseconds until due (negative: overdue by that much). */
  remainingMs: number;
}

const rank: Record<SlaStatus, number> = { breached: 2, warning: 1, ok: 0 };

/**
 * The status of one clock now: past its due time it is breached even before the server's
 * breach event arrives; otherwise the server's word (it alone knows the warning threshold).
 */
export function effectiveSlaStatus(due: SlaDueView, now: number): SlaStatus {
  const at = Date.parse(due.dueAt);
  if (Number.isFinite(at) && now >= at) return 'breached';
  return due.status === 'breached' || due.status === 'warning' ? due.status : 'ok';
}

/** The clock to show on a conversation: the worst status, then the earliest due time. Null: no running clock. */
export function pickSlaBadge(clocks: readonly SlaDueView[] | undefined, now: number): SlaBadgeView | null {
  let best: SlaBadgeView | null = null;
  for (const c of clocks ?? []) {
    const at = Date.parse(c.dueAt);
    if (!Number.isFinite(at)) continue;
    const view: SlaBadgeView = { clock: c.clock, dueAt: c.dueAt, status: effectiveSlaStatus(c, now), remainingMs: at - now };
    if (
      !best ||
      rank[view.status] > rank[best.status] ||
      (rank[view.status] === rank[best.status] && view.remainingMs < best.remainingMs)
    ) best = view;
  }
  return best;
}

/** Applies a `routing.sla` event to the clocks known for a conversation. */
export function applySlaEvent(clocks: readonly SlaDueView[] | undefined, e: { clock: SlaClock; status: SlaStatus; dueAt: string }): SlaDueView[] {
  const rest = (clocks ?? []).filter((c) => c.clock !== e.clock);
  return [...rest, { clock: e.clock, dueAt: e.dueAt, status: e.status }];
}

/**
 * The clocks still running for a conversation. A response clock (first or next reply) runs only
 * while the customer waits for an answer: once the last public message is the team's reply it is
 * met, even if the server still lists the warning it sent earlier. Resolved: nothing runs.
 */
export function runningClocks(clocks: readonly SlaDueView[] | undefined, c: Pick<Conversation, 'status' | 'lastMessage'>): SlaDueView[] {
  if (!clocks || c.status === 'resolved') return [];
  const last = c.lastMessage;
  const answered = last !== null && last.direction === 'out' && !last.private;
  return answered ? clocks.filter((d) => d.clock === 'resolution') : [...clocks];
}
