import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardedFetch } from './guarded-fetch.ts';
import { refusedAddress } from './private-targets.ts';

// guardedFetch against real local servers: what it sends, where it refuses to go, and redirects.

let server: Server;
let other: Server;
let base: string;
let otherBase: string;
const seen: { url: string; method: string; headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      const [path, query] = (req.url ?? '').split('?');
      if (path === '/to') {
        res.writeHead(302, { location: new URLSearchParams(query).get('url')! });
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'x-twice': ['a', 'b'] });
      res.end(`hello ${path}`);
    });
  };
  server = createServer(handler);
  other = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.2', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  otherBase = `http://127.0.0.2:${(other.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await new Promise((resolve) => other.close(resolve));
});

describe('guardedFetch', () => {
  it('sends method, headers and a form or JSON body like fetch, and answers a Response', async () => {
    const res = await guardedFetch(`${base}/form`, { method: 'POST', body: new URLSearchParams({ a: '1', b: 'ü' }), headers: { authorization: 'Bearer t' }, privateTargets: ['127.0.0.1'] });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('hello /form');
    expect(res.headers.get('x-twice')).toBe('a, b');
    const sent = seen.at(-1)!;
    expect(sent).toMatchObject({ method: 'POST', body: 'a=1&b=%C3%BC' });
    expect(sent.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(sent.headers.authorization).toBe('Bearer t');
  });

  it('refuses private and reserved targets, literal or by name, before connecting, unless allowed', async () => {
    const before = seen.length;
    await expect(guardedFetch(`${base}/x`, { privateTargets: false })).rejects.toThrow(/127\.0\.0\.1 is a private or reserved address/);
    await expect(guardedFetch('http://169.254.169.254/latest/meta-data/', { privateTargets: ['127.0.0.1'] })).rejects.toThrow(/private or reserved/);
    const port = (server.address() as AddressInfo).port;
    await expect(guardedFetch(`http://localhost:${port}/x`, { privateTargets: false })).rejects.toThrow(/localhost resolves to .* private or reserved/);
    expect(seen.length).toBe(before);
    expect((await guardedFetch(`${base}/allowed`, { privateTargets: true })).status).toBe(200);
  });

  it('follows redirects, checks every hop, drops Authorization once they leave the first host, and obeys redirect: manual / error', async () => {
    const hop = (url: string) => `${base}/to?url=${encodeURIComponent(url)}`;
    const followed = await guardedFetch(hop(`${base}/landed`), { headers: { authorization: 'Bearer keep' }, privateTargets: ['127.0.0.1', '127.0.0.2'] });
    expect(await followed.text()).toBe('hello /landed');
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer keep');
    // Another host: no credentials.
    const elsewhere = await guardedFetch(hop(`${otherBase}/other`), { headers: { authorization: 'Bearer drop' }, privateTargets: ['127.0.0.1', '127.0.0.2'] });
    expect(await elsewhere.text()).toBe('hello /other');
    expect(seen.at(-1)!.headers.authorization).toBeUndefined();
    // A public-looking first hop that sends you inside is refused at the hop.
    await expect(guardedFetch(hop('http://169.254.169.254/latest/meta-data/'), { privateTargets: ['127.0.0.1'] })).rejects.toThrow(/169\.254\.169\.254/);
    expect((await guardedFetch(hop(`${base}/x`), { redirect: 'manual', privateTargets: ['127.0.0.1'] })).status).toBe(302);
    await expect(guardedFetch(hop(`${base}/x`), { redirect: 'error', privateTargets: ['127.0.0.1'] })).rejects.toThrow(/redirected/);
  });

  it('tells private and reserved addresses from public ones, and lets an operator allow some or all', () => {
    for (const inside of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1']) {
      expect(refusedAddress(inside, false), inside).toEqual(expect.stringContaining('private or reserved'));
    }
    for (const outside of ['8.8.8.8', '1.1.1.1', '2001:4860:4860::8888', '::ffff:8.8.8.8', '172.32.0.1']) expect(refusedAddress(outside, false), outside).toBeNull();
    expect(refusedAddress('10.1.2.3', ['10.1.0.0/16'])).toBeNull();
    expect(refusedAddress('10.2.0.1', ['10.1.0.0/16'])).not.toBeNull();
    expect(refusedAddress('127.0.0.1', ['127.0.0.1'])).toBeNull();
    expect(refusedAddress('169.254.169.254', true)).toBeNull();
  });
});
