import { describe, expect, it } from 'vitest';
import { bestSkillMatch, leastOccupied, longestIdle, roundRobin, type StrategyCandidate, type StrategyContext } from './strategies.ts';

const cands: StrategyCandidate[] = [
  { id: 'b', lastIdleSince: 300, occupancy: 0.5, skillScore: 9, memberIndex: 1 },
  { id: 'a', lastIdleSince: 100, occupancy: 0.75, skillScore: 4, memberIndex: 0 },
  { id: 'c', lastIdleSince: 200, occupancy: 0, skillScore: 9, memberIndex: 2 },
];
const ctx = (over: Partial<StrategyContext> = {}): StrategyContext => ({
  queueId: 'q',
  item: { id: 'i', channel: 'chat', requiredSkills: [], preferredSkills: [] },
  candidates: cands,
  lastAssignedIndex: -1,
  now: 1000,
  ...over,
});

describe('strategies', () => {
  it('longest idle picks the agent idle since the earliest time', () => {
    expect(longestIdle.select(ctx())).toBe('a');
  });
  it('least occupied picks the emptiest agent', () => {
    expect(leastOccupied.select(ctx())).toBe('c');
  });
  it('best skill match picks the highest skill score, ties by idle time', () => {
    expect(bestSkillMatch.select(ctx())).toBe('c');
  });
  it('round robin continues after the last assigned member and wraps', () => {
    expect(roundRobin.select(ctx({ lastAssignedIndex: -1 }))).toBe('a');
    expect(roundRobin.select(ctx({ lastAssignedIndex: 0 }))).toBe('b');
    expect(roundRobin.select(ctx({ lastAssignedIndex: 1 }))).toBe('c');
    expect(roundRobin.select(ctx({ lastAssignedIndex: 2 }))).toBe('a');
  });
  it('ties are broken by agent id so results never depend on iteration order', () => {
    const tied = [
      { id: 'y', lastIdleSince: 5, occupancy: 0, skillScore: 1, memberIndex: 0 },
      { id: 'x', lastIdleSince: 5, occupancy: 0, skillScore: 1, memberIndex: 1 },
    ];
    expect(longestIdle.select(ctx({ candidates: tied }))).toBe('x');
    expect(longestIdle.select(ctx({ candidates: [...tied].reverse() }))).toBe('x');
  });
});
