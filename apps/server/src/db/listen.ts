import pg from 'pg';
import type { Logger } from 'pino';

export interface Listener {
  close(): Promise<void>;
}

/**
 * Holds one connection of its own that LISTENs on the channels (notifications cannot go through
 * the pool: a pooled connection is handed to queries and back), calling each channel's handler
 * with the payloads. A lost connection is opened again with backoff, and `listening` is called
 * each time: whatever was sent while the node was not listening was missed.
 */
export function listen(url: string, channels: Record<string, (payload: string) => void>, listening: () => void, log: Logger): Listener {
  let client: pg.Client | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;
  let backoffMs = 250;

  const connect = async () => {
    retry = null;
    const c = new pg.Client({ connectionString: url, application_name: 'parley-listen' });
    c.on('notification', (n) => {
      if (n.payload) channels[n.channel]?.(n.payload);
    });
    c.on('error', (err) => log.warn({ err }, 'listen connection failed'));
    c.on('end', () => {
      if (client === c) client = null;
      if (!closed) schedule();
    });
    try {
      await c.connect();
      for (const channel of Object.keys(channels)) await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (err) {
      log.warn({ err }, 'cannot listen; trying again');
      await c.end().catch(() => undefined);
      return schedule();
    }
    if (closed) return void (await c.end().catch(() => undefined));
    client = c;
    backoffMs = 250;
    listening();
  };
  const schedule = () => {
    if (retry || closed) return;
    retry = setTimeout(() => void connect(), backoffMs);
    retry.unref();
    backoffMs = Math.min(backoffMs * 2, 10_000);
  };

  void connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await client?.end().catch(() => undefined);
    },
  };
}
