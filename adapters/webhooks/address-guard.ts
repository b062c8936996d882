/**
 * SSRF guard for webhook URLs (issue 5: "private address ranges refused unless allowed in
 * config"). A webhook makes MCM send requests to a URL an admin typed; without this guard that
 * admin (or a stolen admin token) could make MCM probe the loopback interface, the LAN or a cloud
 * metadata endpoint (169.254.169.254). Checked twice: before the URL is accepted (DNS of that
 * moment) and at every delivery, where the connection's own lookup is checked too, so a name that
 * later rebinds to a private address (DNS rebinding) gets nothing sent.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';

/** Resolves a host name to every address (node:dns lookup with `all: true`, i.e. getaddrinfo). */
export type ResolveHost = (host: string) => Promise<string[]>;

export const resolveWithDns: ResolveHost = (host) =>
  new Promise((resolve, reject) => {
    dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => {
      if (err) reject(err);
      else resolve(addresses.map((a) => a.address));
    });
  });

/** Why an address is refused, by range (RFC 6890 special-purpose registries). */
const RANGES: readonly (readonly [string, number, 'ipv4' | 'ipv6', string])[] = [
  ['0.0.0.0', 8, 'ipv4', 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'ipv4', 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT (RFC 6598)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['172.16.0.0', 12, 'ipv4', 'private (RFC 1918)'],
  ['192.168.0.0', 16, 'ipv4', 'private (RFC 1918)'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved/broadcast'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'unique local (private)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'site-local (deprecated private)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];

// One BlockList per range so the refusal can name the range. node's BlockList also matches the
// IPv4-mapped IPv6 form (::ffff:127.0.0.1) of an IPv4 range.
const LISTS = RANGES.map(([net, prefix, family, why]) => {
  const list = new BlockList();
  list.addSubnet(net, prefix, family);
  return { list, why };
});

/** IPv6 forms that embed an IPv4 address the BlockList would not unwrap: NAT64 64:ff9b::/96, IPv4-compatible ::/96. */
const embeddedIpv4 = (ip: string): string | null => {
  const m = /^(?:64:ff9b::|::)(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m?.[1] && isIP(m[1]) === 4) return m[1];
  const hex = /^(?:64:ff9b::|::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!hex?.[1] || !hex[2]) return null;
  const hi = parseInt(hex[1], 16);
  const lo = parseInt(hex[2], 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
};

/** The kind of range `ip` falls in ('loopback', 'private (RFC 1918)', …), or null for a public address. */
export const blockedRange = (ip: string): string | null => {
  const family = isIP(ip);
  if (family === 0) return 'not an IP address';
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const { list, why } of LISTS) if (list.check(ip, type)) return why;
  if (family === 6) {
    const v4 = embeddedIpv4(ip);
    if (v4 !== null) {
      const why = blockedRange(v4);
      if (why !== null) return `${why}, IPv4 embedded in IPv6`;
    }
  }
  return null;
};

const privateAddress = (host: string, address: string, why: string): DomainError =>
  new DomainError(
    ERROR_CODES.WEBHOOK_PRIVATE_ADDRESS,
    `webhook url host ${JSON.stringify(host)} resolves to ${address}, a ${why} address; MCM refuses such targets ` +
      '(server-side request forgery) unless config webhooks.allow_private is true',
    [{ field: 'url', host, address, range: why }],
  );

/** The host of a URL as DNS sees it: `[::1]` → `::1`. */
export const hostOf = (url: string | URL): string => {
  const hostname = (typeof url === 'string' ? new URL(url) : url).hostname;
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
};

/** Throws MCM_ERR_WEBHOOK_PRIVATE_ADDRESS when any address in `addresses` is refused. */
export const assertPublicAddresses = (host: string, addresses: readonly string[]): void => {
  for (const address of addresses) {
    const why = blockedRange(address);
    if (why !== null) throw privateAddress(host, address, why);
  }
};

export type AddressPolicy = Readonly<{ allowPrivate: boolean; resolve?: ResolveHost }>;

/**
 * Resolves the URL's host (every address) and refuses it when any is private, loopback,
 * link-local, CGNAT, unspecified or multicast. `allowPrivate` (config webhooks.allow_private)
 * skips the check. A host that does not resolve is MCM_ERR_WEBHOOK_INVALID: nothing can be
 * checked, so nothing is accepted.
 */
export const assertPublicWebhookHost = async (url: string | URL, policy: AddressPolicy): Promise<void> => {
  if (policy.allowPrivate) return;
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host) !== 0) {
    addresses = [host];
  } else {
    try {
      addresses = await (policy.resolve ?? resolveWithDns)(host);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new DomainError(ERROR_CODES.WEBHOOK_INVALID, `webhook url host ${JSON.stringify(host)} does not resolve (${typeof code === 'string' ? code : 'lookup failed'})`, [
        { field: 'url', host },
      ]);
    }
    if (addresses.length === 0) {
      throw new DomainError(ERROR_CODES.WEBHOOK_INVALID, `webhook url host ${JSON.stringify(host)} has no addresses`, [{ field: 'url', host }]);
    }
  }
  assertPublicAddresses(host, addresses);
};

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:http(s) `request` that refuses private addresses (unless allowed): the
 * connection itself then can never reach an address the check did not see (DNS rebinding
 * between the check and the connect). Handles both call shapes net uses (`all` true or not).
 */
export const guardedLookup = (allowPrivate: boolean) =>
  (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const all: LookupAllOptions = { ...options, all: true };
    dnsLookup(hostname, all, (err, addresses) => {
      if (err) return callback(err, []);
      if (!allowPrivate) {
        try {
          assertPublicAddresses(hostname, addresses.map((a) => a.address));
        } catch (e) {
          return callback(e as NodeJS.ErrnoException, []);
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`${hostname} has no addresses`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
