import { BlockList, isIP } from 'node:net';
import { lookup, type LookupAddress } from 'node:dns';
import { ParleyError } from '../errors.ts';

/**
 * Where Parley may connect on a tenant's word: webhook receivers, media URLs in providers'
 * webhooks, and the servers an inbox's settings name (SMS providers, Kannel, the Graph API, SMTP
 * relay, IMAP server, SMSC). Parley connects from inside the operator's network: without a
 * check, a tenant could reach the cloud metadata service, the database or anything else only the server can see
 * (server-side request forgery), and read it back as a downloaded attachment. So targets whose
 * address is loopback, private, link-local, shared (CGNAT), multicast or reserved are refused,
 * unless the operator allows private targets (`true`) or some of them (addresses and CIDR
 * ranges), e.g. a self-hosted Parley posting to a LAN service.
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

export class TargetRefusedError extends Error {}

/** The reason Parley may not connect to an address on a tenant's word, or null when it may. */
export function refusedAddress(address: string, allowed: PrivateTargets): string | null {
  // An IPv4 address written as IPv6 (::ffff:10.0.0.1) is that IPv4 address.
  const ip = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  if (allowed === true || !PRIVATE.check(ip, family)) return null;
  if (allowed && allowedList(allowed).check(ip, family)) return null;
  return `${address} is a private or reserved address`;
}

/** A URL's host as an address or name (an IPv6 literal without its brackets). */
export const hostOf = (url: URL): string => url.hostname.replace(/^\[|\]$/g, '');

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

/** An address literal is connected to without a lookup, so guardedLookup never sees it: its refusal, or null (also for a name). */
export function refusedLiteral(host: string, allowed: PrivateTargets): TargetRefusedError | null {
  const why = isIP(host) ? refusedAddress(host, allowed) : null;
  return why ? new TargetRefusedError(`${host}: ${why}`) : null;
}

/**
 * The address to connect to for a host a tenant named (an SMTP relay, an IMAP server), checked:
 * protocols whose client does its own lookup connect to this address instead of the name (with
 * the name kept for TLS), so the name cannot resolve elsewhere between the check and the connection.
 */
export function allowedAddress(host: string, allowed: PrivateTargets): Promise<string> {
  if (isIP(host)) {
    const refused = refusedLiteral(host, allowed);
    return refused ? Promise.reject(refused) : Promise.resolve(host);
  }
  return new Promise((resolve, reject) =>
    guardedLookup(allowed)(host, { all: false }, (err, address) => (err ? reject(err) : resolve(address as string))),
  );
}

/**
 * Checks a host (of a URL, or a mail or SMPP server) when an admin saves it: the address, or every
 * address its name resolves to now; refused, it is a 422 that names the setting which allows it.
 * A name that does not resolve yet is accepted: each connection checks again.
 */
export async function requireAllowedTarget(host: string, allowed: PrivateTargets, what: string): Promise<void> {
  try {
    await allowedAddress(host, allowed);
  } catch (err) {
    if (err instanceof TargetRefusedError) throw new ParleyError('PARLEY_ERR_TARGET_NOT_ALLOWED', `${what} refused: ${err.message} (an operator may allow such targets with PARLEY_PRIVATE_TARGETS)`);
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for node:net/http that refuses names resolving to an address refusedAddress refuses. */
export function guardedLookup(allowed: PrivateTargets) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const why = refusedAddress(a.address, allowed);
        if (why) return callback(new TargetRefusedError(`${hostname} resolves to ${why}`), []);
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
