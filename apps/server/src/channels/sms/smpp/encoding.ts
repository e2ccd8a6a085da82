/**
 * Text ↔ SMPP short_message bytes: the GSM 03.38 default alphabet (data_coding 0, one septet per
 * octet, unpacked, as SMSCs expect it over SMPP) and UCS-2 big-endian (data_coding 8), with long
 * texts split into parts that carry a concatenation UDH (3GPP TS 23.040 §9.2.3.24.1).
 */

/** GSM 03.38 default alphabet, septet value = index. 0x1B is the escape to the extension table. */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
/** The extension table: escape (0x1B) followed by the septet. */
const GSM_EXTENSION: Record<number, string> = { 0x0a: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2f: '\\', 0x3c: '[', 0x3d: '~', 0x3e: ']', 0x40: '|', 0x65: '€' };
const ESCAPE = 0x1b;

const basicByChar = new Map<string, number>();
for (let i = 0; i < GSM_BASIC.length; i++) if (i !== ESCAPE) basicByChar.set(GSM_BASIC[i]!, i);
const extensionByChar = new Map<string, number>(Object.entries(GSM_EXTENSION).map(([septet, ch]) => [ch, Number(septet)]));

export const DATA_CODING_GSM7 = 0x00;
export const DATA_CODING_UCS2 = 0x08;
/** esm_class bit: short_message starts with a user data header. */
export const ESM_UDHI = 0x40;

/** Septets of one character (1, or 2 with the escape), or null when the character is not in the GSM alphabet. */
function gsmSeptets(ch: string): number[] | null {
  const basic = basicByChar.get(ch);
  if (basic !== undefined) return [basic];
  const ext = extensionByChar.get(ch);
  return ext === undefined ? null : [ESCAPE, ext];
}

/** The text as unpacked GSM 7-bit septets, or null when a character is outside the alphabet. */
export function encodeGsm7(text: string): Buffer | null {
  const out: number[] = [];
  for (const ch of text) {
    const septets = gsmSeptets(ch);
    if (!septets) return null;
    out.push(...septets);
  }
  return Buffer.from(out);
}

/** Unpacked septets → text. An escape before an unknown septet reads as the basic character (the spec's fallback); a lone trailing escape is dropped. */
export function decodeGsm7(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const septet = bytes[i]! & 0x7f;
    if (septet === ESCAPE) {
      if (i + 1 >= bytes.length) break;
      const next = bytes[++i]! & 0x7f;
      out += GSM_EXTENSION[next] ?? (next === ESCAPE ? ' ' : GSM_BASIC[next]);
      continue;
    }
    out += GSM_BASIC[septet];
  }
  return out;
}

/** UTF-16 code units, big-endian: characters beyond the BMP (emoji) travel as their surrogate pair. */
export function encodeUcs2(text: string): Buffer {
  const out = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), i * 2);
  return out;
}

export function decodeUcs2(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode((bytes[i]! << 8) | bytes[i + 1]!);
  return out;
}

export interface EncodedSms {
  dataCoding: typeof DATA_CODING_GSM7 | typeof DATA_CODING_UCS2;
  /** esm_class to send with every part: ESM_UDHI when the text was split. */
  esmClass: number;
  /** short_message of each part, UDH included when split. */
  parts: Buffer[];
}

const GSM7_SINGLE = 160;
const GSM7_PART = 153;
const UCS2_SINGLE = 70;
const UCS2_PART = 67;
const MAX_PARTS = 255;

/**
 * Encodes a text for submit_sm: GSM-7 when every character is in the default alphabet, else
 * UCS-2; longer than one SMS → parts of 153 septets / 67 UTF-16 units behind a 6-octet UDH
 * (IEI 0x00, 8-bit reference), never splitting an escape pair or a surrogate pair.
 */
export function encodeSms(text: string, reference: number): EncodedSms {
  const gsm = encodeGsm7(text);
  if (gsm) {
    if (gsm.length <= GSM7_SINGLE) return { dataCoding: DATA_CODING_GSM7, esmClass: 0, parts: [gsm] };
    // Units of one character each (1 or 2 septets), so a part boundary never falls inside an escape pair.
    const units = [...text].map((ch) => Buffer.from(gsmSeptets(ch)!));
    return { dataCoding: DATA_CODING_GSM7, esmClass: ESM_UDHI, parts: withUdh(pack(units, GSM7_PART), reference) };
  }
  const ucs2 = encodeUcs2(text);
  if (text.length <= UCS2_SINGLE) return { dataCoding: DATA_CODING_UCS2, esmClass: 0, parts: [ucs2] };
  // Units of one code point each (2 or 4 octets), so a surrogate pair stays in one part; the limit counts octets.
  const units = [...text].map((ch) => encodeUcs2(ch));
  return { dataCoding: DATA_CODING_UCS2, esmClass: ESM_UDHI, parts: withUdh(pack(units, UCS2_PART * 2), reference) };
}

/** Greedy fill: consecutive units into chunks of at most `limit` octets. */
function pack(units: Buffer[], limit: number): Buffer[] {
  const chunks: Buffer[] = [];
  let current: Buffer[] = [];
  let size = 0;
  for (const unit of units) {
    if (size + unit.length > limit) {
      chunks.push(Buffer.concat(current));
      current = [];
      size = 0;
    }
    current.push(unit);
    size += unit.length;
  }
  if (current.length) chunks.push(Buffer.concat(current));
  return chunks;
}

function withUdh(chunks: Buffer[], reference: number): Buffer[] {
  if (chunks.length > MAX_PARTS) throw new RangeError(`the text needs ${chunks.length} parts; an SMS can be at most ${MAX_PARTS}`);
  return chunks.map((chunk, i) => Buffer.concat([Buffer.from([0x05, 0x00, 0x03, reference & 0xff, chunks.length, i + 1]), chunk]));
}

export interface ConcatenationInfo {
  /** The message reference shared by every part (8- or 16-bit). */
  reference: number;
  total: number;
  /** 1-based. */
  sequence: number;
}

export interface DecodedSms {
  text: string;
  /** Present when this short_message is one part of a concatenated message. */
  concat: ConcatenationInfo | null;
}

/**
 * A deliver_sm's short_message (or message_payload) → text, reading the UDH first when
 * esm_class says there is one. data_coding: 0 GSM-7 (the SMSC default alphabet), 1 IA5/ASCII,
 * 3 Latin-1, 8 UCS-2; the 0xF0 group by its alphabet bit; anything else as Latin-1.
 */
export function decodeSms(dataCoding: number, esmClass: number, bytes: Buffer): DecodedSms {
  let body = bytes;
  let concat: ConcatenationInfo | null = null;
  if (esmClass & ESM_UDHI && bytes.length > 0) {
    const udhLength = bytes[0]!;
    const udh = bytes.subarray(1, 1 + udhLength);
    body = bytes.subarray(1 + udhLength);
    concat = readConcatenation(udh);
  }
  return { text: decodeBody(dataCoding, body), concat };
}

function decodeBody(dataCoding: number, body: Buffer): string {
  if ((dataCoding & 0xf0) === 0xf0) return dataCoding & 0x04 ? body.toString('latin1') : decodeGsm7(body);
  if (dataCoding === 0x00) return decodeGsm7(body);
  if (dataCoding === 0x01) return body.toString('ascii');
  if (dataCoding === 0x08 || ((dataCoding & 0xc0) === 0x00 && (dataCoding & 0x0c) === 0x08)) return decodeUcs2(body);
  return body.toString('latin1');
}

/** The concatenation element of a UDH (IEI 0x00, 8-bit reference, or 0x08, 16-bit), if any. */
function readConcatenation(udh: Buffer): ConcatenationInfo | null {
  let i = 0;
  while (i + 2 <= udh.length) {
    const iei = udh[i]!;
    const length = udh[i + 1]!;
    const data = udh.subarray(i + 2, i + 2 + length);
    if (data.length < length) return null;
    if (iei === 0x00 && length === 3 && data[1]! > 0 && data[2]! > 0 && data[2]! <= data[1]!) return { reference: data[0]!, total: data[1]!, sequence: data[2]! };
    if (iei === 0x08 && length === 4 && data[2]! > 0 && data[3]! > 0 && data[3]! <= data[2]!) return { reference: data.readUInt16BE(0), total: data[2]!, sequence: data[3]! };
    i += 2 + length;
  }
  return null;
}
