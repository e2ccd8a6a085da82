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
});
