/**
 * Text as PostgreSQL can store it: without NUL (a text value cannot hold it, nor can jsonb) and
 * with each lone UTF-16 surrogate half (valid in a JS string and in JSON, refused by jsonb)
 * replaced by U+FFFD. Whatever else came in is kept as it was.
 */
export function storableText(s: string): string {
  return s.replace(/\u0000/g, '').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** storableText applied to every string of a value, through arrays and plain objects (keys too); anything else (Buffers, Dates, streams) is left as it is. */
export function storableStrings<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map(storableStrings) as T;
  if (value !== null && typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storableStrings(v)])) as T;
  }
  return value;
}
