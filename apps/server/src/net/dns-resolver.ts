import { promises as dns } from 'node:dns';

/** Answers a DNS question (`TXT`, `MX`, `A` …) as `dns.promises.resolve` does; errors carry its codes (ENOTFOUND, ENODATA …). */
export type DnsResolver = (name: string, rrtype: string) => Promise<string[][] | string[]>;

/**
 * The resolver for the DNS records Parley reads itself (SPF, DKIM keys, DMARC policies of
 * inbound mail): the system's servers, or the ones configured (`PARLEY_DNS_SERVERS`, e.g. a
 * validating resolver next to the node, or the test suite's dnsmasq). A slow server costs at
 * most `timeout × tries` per question.
 */
export function createDnsResolver(servers?: string[]): DnsResolver {
  const resolver = new dns.Resolver({ timeout: 3_000, tries: 2 });
  if (servers && servers.length > 0) resolver.setServers(servers);
  return (name, rrtype) => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>;
}
