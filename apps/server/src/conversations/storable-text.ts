/** What storableText changes: a NUL, or a surrogate half that is not part of a pair. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Text as PostgreSQL can store it: without NUL (a text value cannot hold it, nor can jsonb) and
 * with each lone UTF-16 surrogate half (valid in a JS string and in JSON, refused by jsonb)
 * replaced by U+FFFD. Whatever else came in is kept as it was.
 */
export function storableText(s: string): string {
  if (!UNSTORABLE.test(s)) return s;
  return s.replace(/\u0000/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/**
 * storableText applied to every string of a value, through arrays and plain objects (keys too);
 * anything else (Buffers, Dates, streams) is left as it is. A value with nothing to change (most
 * provider payloads) is returned as it is, without copying it.
 */
export function storableStrings<T>(value: T): T {
  return hasUnstorable(value) ? rebuilt(value) : value;
}

function rebuilt<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map(rebuilt) as T;
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), rebuilt(v)])) as T;
  return value;
}

function hasUnstorable(value: unknown): boolean {
  if (typeof value === 'string') return UNSTORABLE.test(value);
  if (Array.isArray(value)) return value.some(hasUnstorable);
  if (isPlainObject(value)) {
    for (const key in value) if (UNSTORABLE.test(key) || hasUnstorable(value[key])) return true;
  }
  return false;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value));
