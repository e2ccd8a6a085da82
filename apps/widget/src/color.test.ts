import { describe, expect, it } from 'vitest';
import { safeColor, textColorOn } from './color.ts';

describe('colours', () => {
  it('accepts only hex colours', () => {
    expect(safeColor('#ABCDEF')).toBe('#abcdef');
    expect(safeColor('#abc')).toBe('#aabbcc');
    expect(safeColor('red;background:url(x)')).toBe('#2563eb');
    expect(safeColor(42)).toBe('#2563eb');
  });

  it('picks readable text on the accent', () => {
    expect(textColorOn('#1d4ed8')).toBe('#ffffff');
    expect(textColorOn('#fde047')).toBe('#111827');
  });
});
