import { describe, expect, it } from 'vitest';
import { TypingThrottle } from './typing.ts';

describe('TypingThrottle', () => {
  it('sends "on" at most once per interval and "off" after idle or stop', () => {
    let now = 0;
    const sent: boolean[] = [];
    let idle: (() => void) | null = null;
    const t = new TypingThrottle((on) => sent.push(on), {
      interval: 3000,
      idle: 4000,
      now: () => now,
      setTimer: (fn) => ((idle = fn), 1),
      clearTimer: () => (idle = null),
    });
    t.keystroke();
    now = 1000;
    t.keystroke();
    now = 3500;
    t.keystroke();
    expect(sent).toEqual([true, true]);
    idle!();
    expect(sent).toEqual([true, true, false]);
    t.stop();
    expect(sent).toEqual([true, true, false]);
    t.keystroke();
    t.stop();
    expect(sent).toEqual([true, true, false, true, false]);
  });
});
