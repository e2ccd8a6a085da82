import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { Attachment, Message } from './types.ts';

/** A visitor message written but not yet confirmed by the server. */
export interface OutboxEntry {
  clientMessageId: string;
  content: string;
  attachmentIds: string[];
  /** Kept only to draw the pending bubble. */
  attachments: Attachment[];
  createdAt: string;
}

function isEntry(v: unknown): v is OutboxEntry {
  const e = v as OutboxEntry;
  return !!e && typeof e.clientMessageId === 'string' && typeof e.content === 'string' && Array.isArray(e.attachmentIds);
}

/**
 * The persisted queue of unsent messages. It is written through to storage on every change
 * so a message typed just before a reload or a crash is sent on the next page load.
 */
export class Outbox {
  private list: OutboxEntry[];

  constructor(
    load: () => string | null,
    private readonly save: (raw: string) => void,
  ) {
    let parsed: unknown = [];
    try {
      parsed = JSON.parse(load() ?? '[]');
    } catch {
      parsed = [];
    }
    this.list = Array.isArray(parsed)
      ? parsed.filter(isEntry).map((e) => ({ ...e, attachments: Array.isArray(e.attachments) ? e.attachments : [] }))
      : [];
  }

  entries(): readonly OutboxEntry[] {
    return this.list;
  }

  add(entry: OutboxEntry): void {
    if (this.list.some((e) => e.clientMessageId === entry.clientMessageId)) return;
    this.list.push(entry);
    this.persist();
  }

  remove(clientMessageId: string): void {
    const before = this.list.length;
    this.list = this.list.filter((e) => e.clientMessageId !== clientMessageId);
    if (this.list.length !== before) this.persist();
  }

  has(clientMessageId: string): boolean {
    return this.list.some((e) => e.clientMessageId === clientMessageId);
  }

  private persist(): void {
    this.save(JSON.stringify(this.list));
  }
}

export interface SendError {
  /** HTTP status; 0 for a network failure. */
  status: number;
}

/** Network failures, timeouts, rate limits and server errors are worth retrying; other 4xx are not. */
export function isRetryable(err: unknown): boolean {
  const status = (err as SendError | null)?.status;
  if (typeof status !== 'number') return false;
  return status === 0 || status === 408 || status === 425 || status === 429 || status >= 500;
}

export interface OutboxSenderDeps {
  outbox: Outbox;
  /** Posts one entry; must be idempotent by clientMessageId (the server guarantees it). */
  post(entry: OutboxEntry): Promise<Message>;
  onSent(message: Message, entry: OutboxEntry): void;
  onFailed(entry: OutboxEntry, error: unknown): void;
  /** Called once per retryable failure, e.g. to show "offline". */
  onRetrying?(error: unknown): void;
  setTimer?(fn: () => void, ms: number): unknown;
  clearTimer?(handle: unknown): void;
  backoff?: BackoffOptions;
  random?: () => number;
}

/**
 * Sends the outbox one entry at a time, oldest first, so messages arrive in the order they
 * were written. A retryable failure pauses the queue and retries the same entry (same
 * clientMessageId, so a request that did reach the server is not stored twice) after a backoff.
 */
export class OutboxSender {
  private busy = false;
  private attempt = 0;
  private timer: unknown = null;
  private stopped = false;

  constructor(private readonly deps: OutboxSenderDeps) {}

  /** Sends now, forgetting any backoff — e.g. after the browser comes back online. */
  kick(): void {
    if (this.timer !== null) {
      (this.deps.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
      this.timer = null;
    }
    this.attempt = 0;
    void this.flush();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) (this.deps.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
    this.timer = null;
  }

  async flush(): Promise<void> {
    if (this.busy || this.stopped || this.timer !== null) return;
    this.busy = true;
    try {
      for (;;) {
        const entry = this.deps.outbox.entries()[0];
        if (!entry || this.stopped) return;
        try {
          const message = await this.deps.post(entry);
          this.attempt = 0;
          this.deps.outbox.remove(entry.clientMessageId);
          this.deps.onSent(message, entry);
        } catch (err) {
          if (isRetryable(err)) {
            this.deps.onRetrying?.(err);
            const delay = backoffDelay(this.attempt++, this.deps.backoff, this.deps.random);
            this.timer = (this.deps.setTimer ?? setTimeout)(() => {
              this.timer = null;
              void this.flush();
            }, delay);
            return;
          }
          this.deps.outbox.remove(entry.clientMessageId);
          this.deps.onFailed(entry, err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
