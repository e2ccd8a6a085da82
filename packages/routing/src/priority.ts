import type { Channel } from './types.ts';

/**
 * Raises an item's priority when every condition in `when` holds (CC-3). A rule with
 * `waitedSeconds` applies once the item has waited that long in the queue.
 *
 * @example
 * const vip: PriorityRule = { id: 'vip', when: { attribute: { key: 'tier', equals: 'vip' } }, raiseBy: 5 };
 * const aging: PriorityRule = { id: 'waited-10m', when: { waitedSeconds: 600 }, raiseBy: 2 };
 */
export interface PriorityRule {
  id: string;
  when: {
    attribute?: { key: string; equals: string | number | boolean };
    channel?: Channel;
    label?: string;
    waitedSeconds?: number;
  };
  raiseBy: number;
}

export interface RuleSubject {
  channel: Channel;
  labels: readonly string[];
  attributes: Readonly<Record<string, string | number | boolean>>;
}

/** Whether the rule's conditions other than waiting time hold for the item. */
export function ruleConditionsHold(rule: PriorityRule, item: RuleSubject): boolean {
  const w = rule.when;
  if (w.channel !== undefined && w.channel !== item.channel) return false;
  if (w.label !== undefined && !item.labels.includes(w.label)) return false;
  if (w.attribute !== undefined && item.attributes[w.attribute.key] !== w.attribute.equals) return false;
  return true;
}

/**
 * Score of a waiting item: `priority × weight + seconds waited`. Every item gains one point
 * per second, so a VIP goes first but nobody starves.
 */
export function priorityScore(priority: number, weightSeconds: number, waitingSince: number, now: number): number {
  return priority * weightSeconds + (now - waitingSince) / 1000;
}

/**
 * A time-independent key with the same order as {@link priorityScore} (both grow by one per
 * second of waiting for every item), so queues keep items in a heap without re-sorting.
 */
export function priorityKey(priority: number, weightSeconds: number, waitingSince: number): number {
  return priority * weightSeconds * 1000 - waitingSince;
}
