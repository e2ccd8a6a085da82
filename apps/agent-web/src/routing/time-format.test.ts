import { describe, expect, it } from 'vitest';
import { formatCountdown, formatElapsed, formatSpan, remainingFraction } from './time-format';

describe('formatCountdown', () => {
  it('shows minutes and two-digit seconds, rounded up', () => {
    expect(formatCountdown(30_000)).toBe('0:30');
    expect(formatCountdown(29_001)).toBe('0:30');
    expect(formatCountdown(29_000)).toBe('0:29');
    expect(formatCountdown(65_000)).toBe('1:05');
    expect(formatCountdown(1)).toBe('0:01');
  });
  it('never goes below zero, and survives garbage', () => {
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(-5000)).toBe('0:00');
    expect(formatCountdown(Number.NaN)).toBe('0:00');
  });
  it('switches to hours past an hour', () => {
    expect(formatCountdown(3_600_000)).toBe('1:00:00');
  });
});

describe('formatElapsed', () => {
  it('rounds down and grows units', () => {
    expect(formatElapsed(999)).toBe('0:00');
    expect(formatElapsed(59_999)).toBe('0:59');
    expect(formatElapsed(61_000)).toBe('1:01');
    expect(formatElapsed(3_723_000)).toBe('1:02:03');
    expect(formatElapsed(90_061_000)).toBe('1d 1:01:01');
    expect(formatElapsed(-1)).toBe('0:00');
  });
});

describe('formatSpan', () => {
  it('uses the unit a human needs', () => {
    expect(formatSpan(45_000)).toBe('45s');
    expect(formatSpan(-45_000)).toBe('45s');
    expect(formatSpan(12 * 60_000 + 59_000)).toBe('12m');
    expect(formatSpan(3 * 3_600_000 + 5 * 60_000)).toBe('3h 05m');
    expect(formatSpan(2 * 86_400_000 + 4 * 3_600_000)).toBe('2d 4h');
  });
});

describe('remainingFraction', () => {
  it('is the share of the offer window left, clamped', () => {
    expect(remainingFraction(0, 0, 1000)).toBe(1);
    expect(remainingFraction(250, 0, 1000)).toBe(0.75);
    expect(remainingFraction(2000, 0, 1000)).toBe(0);
    expect(remainingFraction(-10, 0, 1000)).toBe(1);
    expect(remainingFraction(5, 10, 10)).toBe(1);
    expect(remainingFraction(15, 10, 10)).toBe(0);
  });
});
