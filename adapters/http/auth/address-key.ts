/**
 * The address a sign-in lockout counts per (DESIGN §9): an IPv4 address as it is, an IPv6
 * address by its /64 — one subscriber usually holds a whole /64 (RFC 6177, RIPE-690 §4.2), so
 * keying on the full address would give an attacker 2^64 fresh counters — and an IPv4-mapped
 * IPv6 address (`::ffff:192.0.2.1`, also in hex) as the IPv4 address it is.
 */
import { isIP } from 'node:net';

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0xffff] as const;

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or null when it is not one. */
const ipv6Groups = (ip: string): number[] | null => {
  const bare = ip.replace(/%.*$/, '');
  if (isIP(bare) !== 6) return null;
  let text = bare;
  // An embedded dotted IPv4 tail (`64:ff9b::192.0.2.1`) is two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const part = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => Number.parseInt(g, 16)));
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const zeros = tail === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array.from({ length: zeros }, () => 0), ...right];
  return groups.length === 8 ? groups : null;
};

/** `2001:db8:1:2:…` → `2001:db8:1:2::/64`; `::ffff:c000:201` → `192.0.2.1`; anything else unchanged (trimmed, lower case). */
export const addressKeyOf = (ip: string): string => {
  const trimmed = ip.trim().toLowerCase();
  const groups = ipv6Groups(trimmed);
  if (groups === null) return trimmed;
  if (V4_MAPPED_PREFIX.every((g, i) => groups[i] === g)) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  const net = groups.slice(0, 4);
  // Trailing zero groups of the /64 are written as `::` (as RFC 5952 would for the whole address).
  while (net.length > 0 && net[net.length - 1] === 0) net.pop();
  return `${net.map((g) => g.toString(16)).join(':')}::/64`;
};

/**
 * What an admin may name to lift an address lock: an IPv4 or IPv6 address, or a `…/64` as the
 * lockout shows it. The address key, or null when `text` is none of these.
 */
export const parseAddressKey = (text: string): string | null => {
  const trimmed = text.trim();
  const bare = trimmed.endsWith('/64') ? trimmed.slice(0, -3) : trimmed;
  if (isIP(bare.replace(/%.*$/, '')) === 0) return null;
  if (bare !== trimmed && isIP(bare) !== 6) return null; // a /64 of an IPv4 address is not a thing
  return addressKeyOf(bare);
};
