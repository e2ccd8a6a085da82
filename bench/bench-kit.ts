/** What the server benchmarks share: sockets, the realtime hello, waiting for health, admin SQL. */
import pg from 'pg';
import WebSocket from 'ws';

export function openSocket(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Sends the realtime hello (agents: lastSeq null; visitors: with their token) and waits for ready. */
export function hello(ws: WebSocket, frame: unknown = { type: 'hello', lastSeq: null }): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (raw: WebSocket.RawData) => {
      const { type } = JSON.parse(raw.toString()) as { type: string };
      if (type === 'ready' || type === 'resync') {
        ws.off('message', onMessage);
        resolve();
      }
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify(frame));
  });
}

export async function waitHealthy(base: string): Promise<void> {
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('server did not become healthy');
}

export async function adminQuery(url: string, query: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(query);
  await client.end();
}
