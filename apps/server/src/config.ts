import { resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  /** postgres://… selects a PostgreSQL server; unset = embedded PGlite under dataDir/pg. */
  databaseUrl?: string;
  /** Prepare repeated statements on the PostgreSQL server (decision 0005); off behind a pooler that cannot keep them. */
  pgPrepare: boolean;
  /** pg's pipeline mode for statements sent ahead (decision 0005); off by default (PARLEY_PG_PIPELINE=on). */
  pgPipeline: boolean;
  /** Generic plans for the group committer's statements (decision 0005); on by default (PARLEY_PG_GENERIC_PLANS=off). */
  pgGenericPlans: boolean;
  /** Connections this process keeps to a PostgreSQL server (PARLEY_PG_POOL_SIZE, default 10). */
  pgPoolSize: number;
  /** Public base URL, used in widget snippets and invitation links. */
  publicUrl?: string;
  /**
   * Which proxies may tell the client's address and scheme (X-Forwarded-For / -Proto / -Host):
   * none by default, else every hop (`true`) or the proxies' addresses (CIDR ranges too). Without
   * it anyone could pick their address, e.g. to escape the per-address login limit.
   */
  trustProxy: boolean | string[];
  /**
   * Private or reserved addresses Parley may connect to on a tenant's word (webhook receivers,
   * media URLs in providers' webhooks, servers named in inbox settings): none by default (a tenant must not reach the operator's
   * internal network), all (`true`), or these addresses and CIDR ranges. See net/private-targets.ts.
   */
  privateTargets: boolean | string[];
  /** Secret for signing visitor tokens; generated and kept in dataDir when not given. */
  secret?: string;
  sessionTtlHours: number;
  maxAttachmentBytes: number;
  bodyLimitBytes: number;
  logLevel: string;
  /** Run the durable job worker in this process (webhook deliveries, …). */
  workers: boolean;
  /** Port of the inbound SMTP listener (email inboxes); unset = no listener. 0 = any free port. */
  smtpPort?: number;
  smtpHost: string;
  /** PEM files for STARTTLS on the SMTP listener; without them STARTTLS is not offered. */
  smtpTlsKeyFile?: string;
  smtpTlsCertFile?: string;
  /** The name the SMTP listener greets with. */
  smtpHostname?: string;
  /** Largest email accepted (SMTP SIZE) or downloaded (IMAP). */
  emailMaxBytes: number;
  /** DNS servers (`host` or `host:port`) for the records Parley reads itself (SPF, DKIM, DMARC); unset = the system's. */
  dnsServers?: string[];
  /** Forwarders (mailing lists, forwarding services) whose ARC seal is believed when DMARC fails after them; unset = mailauth's list of well-known sealers. */
  arcTrustedSealers?: string[];
  /** Poll the IMAP mailboxes of email inboxes in this process. */
  imapPolling: boolean;
  imapPollMs: number;
}

const MiB = 1024 * 1024;

/** The settings from the environment; a numeric setting that is not a whole number in its bounds stops the start, naming it. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: wholeNumber(env, 'PORT', 8080, 0, 65535),
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(env.PARLEY_DATA_DIR ?? './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    pgPrepare: env.PARLEY_PG_PREPARE !== 'off',
    pgPipeline: env.PARLEY_PG_PIPELINE === 'on',
    pgGenericPlans: env.PARLEY_PG_GENERIC_PLANS !== 'off',
    pgPoolSize: wholeNumber(env, 'PARLEY_PG_POOL_SIZE', 10, 1, 1000),
    publicUrl: env.PARLEY_PUBLIC_URL || undefined,
    trustProxy: parseAddressSetting(env.PARLEY_TRUST_PROXY),
    privateTargets: parseAddressSetting(env.PARLEY_PRIVATE_TARGETS),
    secret: env.PARLEY_SECRET || undefined,
    sessionTtlHours: wholeNumber(env, 'PARLEY_SESSION_TTL_HOURS', 12, 1, 24 * 366),
    maxAttachmentBytes: wholeNumber(env, 'PARLEY_MAX_ATTACHMENT_BYTES', 10 * MiB, 1, 1024 * MiB),
    bodyLimitBytes: wholeNumber(env, 'PARLEY_BODY_LIMIT_BYTES', 256 * 1024, 1024, 1024 * MiB),
    logLevel: env.LOG_LEVEL ?? 'info',
    workers: env.PARLEY_WORKERS !== 'off',
    smtpPort: env.PARLEY_SMTP_PORT?.trim() ? wholeNumber(env, 'PARLEY_SMTP_PORT', 0, 0, 65535) : undefined,
    smtpHost: env.PARLEY_SMTP_HOST ?? env.HOST ?? '0.0.0.0',
    smtpTlsKeyFile: env.PARLEY_SMTP_TLS_KEY || undefined,
    smtpTlsCertFile: env.PARLEY_SMTP_TLS_CERT || undefined,
    smtpHostname: env.PARLEY_SMTP_HOSTNAME || undefined,
    emailMaxBytes: wholeNumber(env, 'PARLEY_EMAIL_MAX_BYTES', 25 * MiB, 1024, 1024 * MiB),
    dnsServers: env.PARLEY_DNS_SERVERS ? env.PARLEY_DNS_SERVERS.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    arcTrustedSealers: env.PARLEY_ARC_TRUSTED_SEALERS !== undefined ? env.PARLEY_ARC_TRUSTED_SEALERS.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean) : undefined,
    imapPolling: env.PARLEY_IMAP_POLLING !== 'off',
    imapPollMs: wholeNumber(env, 'PARLEY_IMAP_POLL_SECONDS', 60, 1, 24 * 3600) * 1000,
  };
}

/** A whole-number setting within its bounds; anything else stops the start with the setting's name, not a NaN later. */
function wholeNumber(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  return n;
}

/** A setting the server cannot start with: the command line prints its message alone, no stack. */
export class ConfigError extends Error {}

export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** `PARLEY_TRUST_PROXY`, `PARLEY_PRIVATE_TARGETS`: unset or `false` = none, `true` = all, `10.0.0.1,10.1.0.0/16` = those addresses. */
export function parseAddressSetting(value: string | undefined): boolean | string[] {
  const v = value?.trim() ?? '';
  if (v === '' || v === 'false') return false;
  if (v === 'true') return true;
  return v.split(',').map((a) => a.trim()).filter(Boolean);
}
