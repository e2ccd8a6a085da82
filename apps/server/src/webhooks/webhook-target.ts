import { BlockList, isIP } from 'node:net';
import { lookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';

/**
 * Where webhooks may go. A tenant admin names the URL, and Parley POSTs to it from inside the
 * operator's network: without a check, a webhook could reach the cloud metadata service, the
 * database or anything else only the server can see (server-side request forgery). So targets
 * whose address is loopback, private, link-local, shared (CGNAT), multicast or reserved are
 * refused, unless the operator allows private targets (`true`) or some of them (addresses and
 * CIDR ranges), e.g. a self-hosted Parley posting to a LAN service.
 */
export type PrivateTargets = boolean | string[];

const PRIVATE = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, bits, 'ipv6');

export class WebhookTargetError extends Error {}

/** The reason an address may not be a webhook target, or null when it may. */
export function refusedAddress(address: string, allowed: PrivateTargets): string | null {
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is that IPv4 address.
  const ip = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (allowed === true || !PRIVATE.check(ip, family)) return null;
  if (allowed && allowedList(allowed).check(ip, family)) return null;
  return `${address} is a private or reserved address`;
}

const allowedLists = new WeakMap<string[], BlockList>();
function allowedList(entries: string[]): BlockList {
  let list = allowedLists.get(entries);
  if (list) return list;
  list = new BlockList();
  for (const entry of entries) {
    const [net, bits] = entry.split('/');
    const family = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(net!, family);
    else list.addSubnet(net!, Number(bits), family);
  }
  allowedLists.set(entries, list);
  return list;
}

/**
 * Checks a URL when an admin registers it: its host, or every address its name resolves to now.
 * A name that does not resolve yet is accepted; each delivery checks again where it connects.
 */
export async function checkWebhookTarget(url: string, allowed: PrivateTargets): Promise<void> {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  const addresses: string[] = isIP(host) ? [host] : await new Promise((resolve) => lookup(host, { all: true }, (err, found) => resolve(err ? [] : found.map((a) => a.address))));
  for (const address of addresses) {
    const why = refusedAddress(address, allowed);
    if (why) throw new WebhookTargetError(`${host}: ${why}`);
  }
}

/**
 * POSTs a webhook and returns the HTTP status. The connection goes to an address checked at
 * connect time (the name is resolved once, by the guarded lookup), so a name that resolves to a
 * public address when registered and to a private one later (DNS rebinding) is still refused.
 * Redirects are not followed.
 */
export function postWebhook(url: string, headers: Record<string, string>, body: string, timeoutMs: number, allowed: PrivateTargets): Promise<number> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  // An address literal is connected to without a lookup: check it here.
  const literal = isIP(host) ? refusedAddress(host, allowed) : null;
  if (literal) return Promise.reject(new WebhookTargetError(`${host}: ${literal}`));
  const client = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      target,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: guardedLookup(allowed), signal: AbortSignal.timeout(timeoutMs) },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

function guardedLookup(allowed: PrivateTargets) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const why = refusedAddress(a.address, allowed);
        if (why) return callback(new WebhookTargetError(`${hostname} resolves to ${why}`), []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
