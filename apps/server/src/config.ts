import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** postgres://… selects a PostgreSQL server; unset = embedded PGlite under dataDir/pg. */
  databaseUrl?: string;
  /** Public base URL, used in widget snippets and invitation links. */
  publicUrl?: string;
  /** Secret for signing visitor tokens; generated and kept in dataDir when not given. */
  secret?: string;
  sessionTtlHours: number;
  maxAttachmentBytes: number;
  bodyLimitBytes: number;
  logLevel: string;
  /** Run the durable job worker in this process (webhook deliveries, …). */
  workers: boolean;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: Number(env.PORT ?? 8080),
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(env.PARLEY_DATA_DIR ?? './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    publicUrl: env.PARLEY_PUBLIC_URL || undefined,
    secret: env.PARLEY_SECRET || undefined,
    sessionTtlHours: Number(env.PARLEY_SESSION_TTL_HOURS ?? 12),
    maxAttachmentBytes: Number(env.PARLEY_MAX_ATTACHMENT_BYTES ?? 10 * 1024 * 1024),
    bodyLimitBytes: Number(env.PARLEY_BODY_LIMIT_BYTES ?? 256 * 1024),
    logLevel: env.LOG_LEVEL ?? 'info',
    workers: env.PARLEY_WORKERS !== 'off',
  };
}

export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}
