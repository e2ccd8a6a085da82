import { describe, expect, it } from 'vitest';
import { configFromEnv } from './config.ts';

describe('settings from the environment', () => {
  it('sizes the PostgreSQL pool from PARLEY_PG_POOL_SIZE, 10 when unset', () => {
    expect(configFromEnv({}).pgPoolSize).toBe(10);
    expect(configFromEnv({ PARLEY_PG_POOL_SIZE: ' 4 ' }).pgPoolSize).toBe(4);
  });

  it('refuses a pool size that is not a whole number from 1 to 1000, naming the setting', () => {
    for (const bad of ['abc', '0', '2.5', '-3', '1001']) {
      expect(() => configFromEnv({ PARLEY_PG_POOL_SIZE: bad })).toThrow(`PARLEY_PG_POOL_SIZE must be a whole number from 1 to 1000, not "${bad}"`);
    }
  });

  it('reads the other numeric settings the same way: defaults when unset, a clear error on a typo', () => {
    const defaults = configFromEnv({});
    expect([defaults.port, defaults.sessionTtlHours, defaults.bodyLimitBytes, defaults.smtpPort, defaults.imapPollMs]).toEqual([8080, 12, 256 * 1024, undefined, 60_000]);
    const set = configFromEnv({ PORT: '0', PARLEY_SESSION_TTL_HOURS: '48', PARLEY_MAX_ATTACHMENT_BYTES: '1048576', PARLEY_SMTP_PORT: '2525', PARLEY_EMAIL_MAX_BYTES: '2048', PARLEY_IMAP_POLL_SECONDS: '5' });
    expect([set.port, set.sessionTtlHours, set.maxAttachmentBytes, set.smtpPort, set.emailMaxBytes, set.imapPollMs]).toEqual([0, 48, 1_048_576, 2525, 2048, 5000]);
    const bad: [string, string, string][] = [
      ['PORT', '80a', 'from 0 to 65535'],
      ['PORT', '70000', 'from 0 to 65535'],
      ['PARLEY_SESSION_TTL_HOURS', '1.5', 'from 1 to 8784'],
      ['PARLEY_MAX_ATTACHMENT_BYTES', '10MB', 'from 1 to 1073741824'],
      ['PARLEY_BODY_LIMIT_BYTES', '100', 'from 1024 to 1073741824'],
      ['PARLEY_SMTP_PORT', 'smtp', 'from 0 to 65535'],
      ['PARLEY_EMAIL_MAX_BYTES', '-1', 'from 1024 to 1073741824'],
      ['PARLEY_IMAP_POLL_SECONDS', '0', 'from 1 to 86400'],
    ];
    for (const [name, value, bounds] of bad) expect(() => configFromEnv({ [name]: value })).toThrow(`${name} must be a whole number ${bounds}, not "${value}"`);
  });
});
