import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import { listen, type Listener } from '../db/listen.ts';
import { EVENTS_CHANNEL } from './event-log.ts';
import type { Ephemeral, RealtimeHub } from './hub.ts';

/** Typing and presence signals, relayed as `{"node","tenantId","e"}`. */
const SIGNALS_CHANNEL = 'parley_signals';
/** NOTIFY refuses payloads of 8,000 bytes or more; a signal is a few hundred. */
const MAX_SIGNAL_BYTES = 7_900;

/**
 * Connects this node's hub to the other nodes on the same PostgreSQL server
 * (docs/decisions/0006-events-across-nodes.md): their commits are announced on EVENTS_CHANNEL
 * (by appendEvents) and read here from the event log; typing and presence signals, which are not
 * stored, go out and come in on SIGNALS_CHANNEL. After any time without listening, every stream
 * of this node reads what it missed.
 */
export function joinOtherNodes(url: string, db: Db, hub: RealtimeHub, nodeId: string, log: Logger): Listener {
  hub.relay = (tenantId, e) => {
    const payload = JSON.stringify({ node: nodeId, tenantId, e });
    if (Buffer.byteLength(payload) > MAX_SIGNAL_BYTES) return log.warn({ tenantId, type: e.type }, 'signal too large to relay to other nodes');
    sql`SELECT pg_notify(${SIGNALS_CHANNEL}, ${payload})`.execute(db).catch((err: unknown) => log.warn({ err }, 'relaying a signal failed'));
  };
  return listen(
    url,
    {
      [EVENTS_CHANNEL]: (payload) => {
        const [node, tenantId, seq] = payload.split(' ');
        if (node !== nodeId && tenantId && Number.isInteger(Number(seq))) hub.heardOf(tenantId, Number(seq));
      },
      [SIGNALS_CHANNEL]: (payload) => {
        let signal: { node?: unknown; tenantId?: unknown; e?: Ephemeral };
        try {
          signal = JSON.parse(payload) as typeof signal;
        } catch {
          return;
        }
        if (signal.node !== nodeId && typeof signal.tenantId === 'string' && signal.e) hub.ephemeralHere(signal.tenantId, signal.e);
      },
    },
    () => void hub.catchUpAll(),
    log,
  );
}
