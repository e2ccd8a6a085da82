import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import type { RealtimeHub } from './realtime/hub.ts';
import type { GroupCommitter } from './realtime/transact.ts';
import type { AttachmentStorage } from './attachments/attachment-storage.ts';
import type { RoutingService } from './routing/routing.service.ts';

/** What use cases need from the running process; built once in app.ts and passed down. */
export interface Deps {
  db: Db;
  engine: 'pglite' | 'postgres';
  hub: RealtimeHub;
  /** Runs use cases in transactions with their events (group commit per tenant). */
  committer: GroupCommitter;
  /** The routing engine of each tenant, with its state in the database. */
  routing: RoutingService;
  config: Config;
  log: Logger;
  storage: AttachmentStorage;
  /** Signs visitor tokens. */
  secret: string;
  /** This server process among the nodes sharing the database. */
  nodeId: string;
}
