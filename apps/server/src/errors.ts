/**
 * The catalogue of errors Parley answers with. Each has a stable code and an HTTP status; the
 * error handler in app.ts turns them into `{ error: { code, message, details } }`.
 */
export const errorCatalogue = {
  PARLEY_ERR_VALIDATION: 400,
  PARLEY_ERR_MALFORMED_JSON: 400,
  PARLEY_ERR_BAD_REQUEST: 400,
  PARLEY_ERR_UNAUTHENTICATED: 401,
  PARLEY_ERR_INVALID_CREDENTIALS: 401,
  PARLEY_ERR_SESSION_EXPIRED: 401,
  PARLEY_ERR_IDENTITY_HASH_INVALID: 401,
  PARLEY_ERR_CSRF: 403,
  PARLEY_ERR_FORBIDDEN: 403,
  PARLEY_ERR_ORIGIN_NOT_ALLOWED: 403,
  PARLEY_ERR_NOT_FOUND: 404,
  PARLEY_ERR_CONFLICT: 409,
  PARLEY_ERR_INVITATION_USED: 409,
  PARLEY_ERR_EMAIL_TAKEN: 409,
  PARLEY_ERR_PAYLOAD_TOO_LARGE: 413,
  PARLEY_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  PARLEY_ERR_NOT_SUPPORTED: 422,
  PARLEY_ERR_OPTED_OUT: 422,
  PARLEY_ERR_COUNTRY_UNAVAILABLE: 422,
  PARLEY_ERR_NUMBER_NOT_OWNED: 422,
  PARLEY_ERR_CHANNEL_WINDOW_CLOSED: 422,
  PARLEY_ERR_TARGET_NOT_ALLOWED: 422,
  PARLEY_ERR_RATE_LIMITED: 429,
  PARLEY_ERR_INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof errorCatalogue;

export class ParleyError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ParleyError';
    this.statusCode = errorCatalogue[code];
  }
}

export const notFound = (what: string) => new ParleyError('PARLEY_ERR_NOT_FOUND', `${what} not found`);
export const forbidden = (why: string) => new ParleyError('PARLEY_ERR_FORBIDDEN', why);
