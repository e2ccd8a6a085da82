import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { randomUUID } from 'node:crypto';

/** Attachment bytes on local disk under the data dir, one file per attachment, per tenant. */
export class AttachmentStorage {
  constructor(private readonly root: string) {}

  /** Writes a stream to a temporary file and moves it in place only when complete. */
  async put(tenantId: string, id: string, body: Readable): Promise<{ key: string; size: number; head: Buffer }> {
    const key = join(safeSegment(tenantId), safeSegment(id));
    const path = join(this.root, key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = `${path}.${randomUUID()}.part`;
    let size = 0;
    let head = Buffer.alloc(0);
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (head.length < 16) head = Buffer.concat([head, chunk]).subarray(0, 16);
    });
    try {
      await pipeline(body, createWriteStream(tmp, { mode: 0o600 }));
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { key, size, head };
  }

  open(key: string): Readable {
    return createReadStream(join(this.root, key));
  }

  async remove(key: string): Promise<void> {
    await rm(join(this.root, key), { force: true });
  }
}

function safeSegment(s: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) throw new Error(`unsafe storage path segment: ${s}`);
  return s;
}
