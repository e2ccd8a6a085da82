import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DATA_CODING_GSM7, DATA_CODING_UCS2, decodeGsm7, decodeSms, encodeGsm7, encodeSms, ESM_UDHI } from './encoding.ts';

const hex = (b: Buffer | null) => b?.toString('hex') ?? null;

/** Every character of the GSM 03.38 default alphabet and its extension table (escape excluded). */
const GSM_CHARS = [...'@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà', '\f', '^', '{', '}', '\\', '[', '~', ']', '|', '€'];

/** Reads the parts back the way a handset does: UDH off, texts joined in sequence order. */
function reassemble(parts: Buffer[], dataCoding: number, esmClass: number): string {
  const decoded = parts.map((p) => decodeSms(dataCoding, esmClass, p));
  return decoded
    .sort((a, b) => (a.concat?.sequence ?? 0) - (b.concat?.sequence ?? 0))
    .map((d) => d.text)
    .join('');
}

describe('GSM 03.38 default alphabet (unpacked septets)', () => {
  it('encodes known characters to the table values of the spec', () => {
    expect(hex(encodeGsm7('Hello'))).toBe('48656c6c6f');
    expect(hex(encodeGsm7('@£$¥'))).toBe('00010203');
    expect(hex(encodeGsm7('é'))).toBe('05');
    expect(hex(encodeGsm7('Ç'))).toBe('09');
    expect(hex(encodeGsm7('ñüà'))).toBe('7d7e7f');
    expect(hex(encodeGsm7('¡¿§'))).toBe('40605f');
    expect(hex(encodeGsm7('ΔΩ'))).toBe('1015');
    // The extension table: escape 0x1B then the septet.
    expect(hex(encodeGsm7('€'))).toBe('1b65');
    expect(hex(encodeGsm7('{}[]~\\|^'))).toBe('1b281b291b3c1b3e1b3d1b2f1b401b14');
  });

  it('refuses characters outside the alphabet (á, ç, emoji): those texts go as UCS-2', () => {
    for (const text of ['á', 'ç', 'ã', '😀', '`']) expect(encodeGsm7(text)).toBeNull();
  });

  it('decodes an unknown extension septet as its basic character, and drops a dangling escape', () => {
    expect(decodeGsm7(Buffer.from([0x1b, 0x41]))).toBe('A');
    expect(decodeGsm7(Buffer.from([0x41, 0x1b]))).toBe('A');
  });

  it('round-trips any text of the alphabet', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...GSM_CHARS), { maxLength: 400 }), (chars) => decodeGsm7(encodeGsm7(chars.join(''))!) === chars.join('')));
  });
});

describe('encodeSms: coding choice and concatenation', () => {
  it('sends a short GSM text as one unsplit GSM-7 part, 160 septets at most', () => {
    const one = encodeSms('x'.repeat(160), 1);
    expect(one).toMatchObject({ dataCoding: DATA_CODING_GSM7, esmClass: 0 });
    expect(one.parts).toHaveLength(1);
    // Escapes count twice: 80 euro signs are 160 septets, 81 need two parts.
    expect(encodeSms('€'.repeat(80), 1).parts).toHaveLength(1);
    expect(encodeSms('€'.repeat(81), 1).parts).toHaveLength(2);
  });

  it('sends text with a character outside GSM-7 as UCS-2 big-endian, emoji as a surrogate pair', () => {
    const e = encodeSms('Olá 😀', 1);
    expect(e.dataCoding).toBe(DATA_CODING_UCS2);
    expect(hex(e.parts[0]!)).toBe('004f006c00e10020d83dde00');
  });

  it('splits long GSM-7 text into 153-septet parts behind a UDH (IEI 0, 8-bit reference)', () => {
    const e = encodeSms('a'.repeat(153 * 2 + 10), 0xab);
    expect(e).toMatchObject({ dataCoding: DATA_CODING_GSM7, esmClass: ESM_UDHI });
    expect(e.parts.map((p) => hex(p.subarray(0, 6)))).toEqual(['050003ab0301', '050003ab0302', '050003ab0303']);
    expect(e.parts.map((p) => p.length - 6)).toEqual([153, 153, 10]);
  });

  it('never splits an escape pair across parts', () => {
    const e = encodeSms(`${'a'.repeat(152)}€tail${'b'.repeat(100)}`, 3);
    expect(e.parts[0]!.length - 6).toBe(152);
    expect(e.parts[1]!.subarray(6, 8).toString('hex')).toBe('1b65');
  });

  it('splits long UCS-2 text into 67-unit parts without breaking a surrogate pair', () => {
    const e = encodeSms(`${'é'.repeat(66)}😀${'ç'.repeat(80)}`, 9);
    expect(e).toMatchObject({ dataCoding: DATA_CODING_UCS2, esmClass: ESM_UDHI });
    // 66 units + the pair would be 68: the pair starts the second part.
    expect((e.parts[0]!.length - 6) / 2).toBe(66);
    expect(e.parts[1]!.subarray(6, 10).toString('hex')).toBe('d83dde00');
    expect(e.parts.every((p) => p.length <= 140)).toBe(true);
  });

  it('refuses a text that would need more than 255 parts', () => {
    expect(() => encodeSms('x'.repeat(153 * 256), 1)).toThrow(/255/);
  });

  it('round-trips any text through parts and reassembly, every part within 140 octets', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 700 }), fc.array(fc.constantFrom(...GSM_CHARS), { maxLength: 700 }).map((c) => c.join('')), fc.string({ unit: 'grapheme', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 })), fc.integer({ min: 0, max: 255 }), (text, ref) => {
        const e = encodeSms(text, ref);
        const multi = e.parts.length > 1;
        // GSM-7: 160 septets, or 153 behind the UDH (7 septets of it); UCS-2: 140 octets with the UDH.
        const limit = e.dataCoding === DATA_CODING_GSM7 ? (multi ? 153 : 160) : multi ? 134 : 140;
        for (const p of e.parts) expect(p.length - (multi ? 6 : 0)).toBeLessThanOrEqual(limit);
        return reassemble(e.parts, e.dataCoding, e.esmClass) === text;
      }),
    );
  });
});

describe('decodeSms: inbound short messages', () => {
  it('reads the concatenation element of a UDH (8- and 16-bit references) and strips the header', () => {
    const eight = decodeSms(0, ESM_UDHI, Buffer.from('0500031f0302' + Buffer.from('Hi').toString('hex'), 'hex'));
    expect(eight).toEqual({ text: 'Hi', concat: { reference: 0x1f, total: 3, sequence: 2 } });
    const sixteen = decodeSms(8, ESM_UDHI, Buffer.from('0608041234020100480069', 'hex'));
    expect(sixteen).toEqual({ text: 'Hi', concat: { reference: 0x1234, total: 2, sequence: 1 } });
  });

  it('reads IA5, Latin-1 and the 0xF0 data coding group', () => {
    expect(decodeSms(1, 0, Buffer.from('abc')).text).toBe('abc');
    expect(decodeSms(3, 0, Buffer.from([0xe9])).text).toBe('é');
    expect(decodeSms(0xf0, 0, Buffer.from([0x05])).text).toBe('é');
    expect(decodeSms(0xf4, 0, Buffer.from([0xe9])).text).toBe('é');
  });

  it('ignores a UDH with a bad concatenation element instead of throwing', () => {
    expect(decodeSms(0, ESM_UDHI, Buffer.from('05000300000141', 'hex'))).toEqual({ text: 'A', concat: null });
    expect(decodeSms(0, ESM_UDHI, Buffer.from('09', 'hex'))).toEqual({ text: '', concat: null });
  });
});
