/**
 * The SSRF guard for webhooks: a campaign's target must be a public internet address, never
 * loopback, private, link-local (cloud metadata lives there), carrier-grade NAT, multicast or
 * reserved space — unless `WEBHOOK_ALLOW_PRIVATE=true` (development and tests). Checked when a
 * version is reviewed (the API resolves the host) and again for every connection at send time
 * (`guardedLookup`), so a DNS answer that changes in between cannot reach an internal service.
 */
import { lookup, type LookupAddress } from 'node:dns';
import { promises as dns } from 'node:dns';
import ipaddr from 'ipaddr.js';

/** Whether an IP address is public unicast (IPv4-mapped IPv6 is judged as its IPv4). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) {
    ip = (ip as ipaddr.IPv6).toIPv4Address();
  }
  return ip.range() === 'unicast';
}

/** Why a webhook URL may not be used, or undefined when it may. Resolves the host name. */
export async function refuseWebhookTarget(url: string, allowPrivate: boolean): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'must be an http(s) URL';
  if (allowPrivate) return undefined;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = ipaddr.isValid(host) ? [host] : (await dns.lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return `host ${host} does not resolve`;
  }
  const internal = addresses.find((a) => !isPublicAddress(a));
  return internal === undefined
    ? undefined
    : `must be a public address; ${host} resolves to ${internal} (set WEBHOOK_ALLOW_PRIVATE=true to allow)`;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `dns.lookup` replacement for HTTP agents that refuses non-public answers, so the check holds for
 * the address actually connected to.
 */
export function guardedLookup(
  hostname: string,
  options: { all?: boolean; family?: number },
  callback: LookupCallback,
): void {
  lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const internal = addresses.find((a) => !isPublicAddress(a.address));
    if (internal) {
      const refused = Object.assign(
        new Error(`webhook host ${hostname} resolves to non-public address ${internal.address}`),
        { code: 'ENONPUBLIC' },
      );
      return callback(refused, []);
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0].address, addresses[0].family);
  });
}
