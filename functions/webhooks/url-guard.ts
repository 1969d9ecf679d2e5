import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { BlockList, isIPv4, isIPv6, type LookupFunction } from 'node:net';

/**
 * The SSRF guard for webhook URLs. A customer chooses where we send requests from inside our network,
 * so the URL is checked when the endpoint is registered and again on every connection, on the address
 * actually connected to (DNS can change between the two: rebinding).
 *
 * Only public unicast addresses pass: every special-purpose range ipaddr.js names (private, loopback,
 * link-local incl. 169.254.169.254, CGNAT, multicast, broadcast, unique-local incl. fd00:ec2::254,
 * documentation, benchmarking, reserved …; the table below is its table, and a differential test
 * holds this guard to ipaddr.js's `range() === 'unicast'`) is refused, with Node's `net.BlockList`
 * doing the matching so the Lambda bundles carry no address library. An IPv6 address must also lie in
 * global unicast, 2000::/3, the only block IANA allocates: that refuses IPv4-compatible `::a.b.c.d`
 * (the whole deprecated ::/96, which ipaddr.js calls unicast) and anything reserved or unassigned.
 * IPv4-mapped IPv6 (::ffff:0:0/96) is judged as the IPv4 address it carries; IPv4-translated
 * (::ffff:0:0:0/96), NAT64 (64:ff9b::/96, 64:ff9b:1::/48), 6to4 (2002::/16) and Teredo (2001::/32)
 * addresses, which embed an IPv4 address a gateway may forward to, are refused outright. Any spelling
 * of an IPv6 address (`::169.254.169.254`, `0:0:0:0:0:0:a9fe:a9fe`, upper case) is parsed to its
 * 128 bits by `BlockList` before matching, so spelling cannot slip past a range. Odd IPv4 spellings (decimal `2130706433`,
 * octal `0177.0.0.1`, hex `0x7f.1`) are normalised by the WHATWG URL parser before any check, the same
 * parser `node:http` connects with (the sender passes it the parsed URL), so the checked form is the one used.
 */
export interface UrlGuardMode {
  /**
   * The local stack's development allowance: also `http(s)://127.0.0.1:<port>` and
   * `http(s)://localhost:<port>`, and nothing else that is not public. @default false (AWS)
   */
  allowLoopback: boolean;
}

export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

/** Resolves every address of a name with the system resolver (what a connection would use). */
export const systemResolve: Resolve = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/** A URL we refuse to send to, and why (shown to the customer). */
export class UnsafeUrlError extends Error {
  override readonly name = 'UnsafeUrlError';
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost']);
const BLOCKED_SUFFIXES = ['.localhost', '.local', '.internal', '.localdomain', '.home.arpa'];

/** True when the local stack's allowance covers this parsed URL's host. */
const isLocalAllowance = (url: URL, mode: UrlGuardMode) => mode.allowLoopback && LOCAL_HOSTS.has(url.hostname);

/**
 * The ranges that are not public unicast: ipaddr.js 2.x's `SpecialRanges`, IPv4 then IPv6 (except
 * its `ipv4Mapped`, ::ffff:0:0/96, which is judged by the IPv4 address it carries: `BlockList`
 * matches an IPv4-mapped address against the IPv4 rules).
 */
const NOT_PUBLIC: ReadonlyArray<[string, number, 'ipv4' | 'ipv6']> = [
  ...(
    [
      ['0.0.0.0', 8], ['255.255.255.255', 32], ['224.0.0.0', 4], ['169.254.0.0', 16], ['127.0.0.0', 8],
      ['100.64.0.0', 10], ['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16],
      ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['198.18.0.0', 15], ['198.51.100.0', 24],
      ['203.0.113.0', 24], ['240.0.0.0', 4], ['192.175.48.0', 24], ['192.31.196.0', 24], ['192.52.193.0', 24],
    ] as const
  ).map(([a, p]): [string, number, 'ipv4'] => [a, p, 'ipv4']),
  ...(
    [
      ['::', 128], ['fe80::', 10], ['ff00::', 8], ['::1', 128], ['fc00::', 7], ['fec0::', 10], ['100::', 64],
      ['::ffff:0:0:0', 96], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['2002::', 16], ['2001::', 32],
      ['2001:2::', 48], ['2001:3::', 32], ['2001:4:112::', 48], ['2620:4f:8000::', 48], ['2001:10::', 28],
      ['2001:20::', 28], ['2001:30::', 28], ['5f00::', 16], ['2001::', 23], ['2001:db8::', 32], ['3fff::', 20],
    ] as const
  ).map(([a, p]): [string, number, 'ipv6'] => [a, p, 'ipv6']),
];
const notPublic = new BlockList();
for (const [network, prefix, family] of NOT_PUBLIC) notPublic.addSubnet(network, prefix, family);

/** IPv4-mapped IPv6, ::ffff:0:0/96: judged by the IPv4 address in its last 32 bits. */
const ipv4Mapped = new BlockList();
ipv4Mapped.addSubnet('::ffff:0:0', 96, 'ipv6');
/** Global unicast, 2000::/3: every other IPv6 address is reserved, special or unassigned. */
const globalUnicast = new BlockList();
globalUnicast.addSubnet('2000::', 3, 'ipv6');

/**
 * Is this address one we may connect to? Public unicast only; see the module comment. Anything that
 * is not a plain IPv4 or IPv6 address (a zone id, an odd IPv4 spelling) is refused.
 */
export function isPublicAddress(address: string): boolean {
  if (isIPv4(address)) return !notPublic.check(address, 'ipv4');
  if (!isIPv6(address) || address.includes('%')) return false;
  // `notPublic` matches an IPv4-mapped address against its IPv4 rules.
  if (ipv4Mapped.check(address, 'ipv6')) return !notPublic.check(address, 'ipv6');
  return globalUnicast.check(address, 'ipv6') && !notPublic.check(address, 'ipv6');
}

/** Loopback (127/8, ::1, and 127/8 IPv4-mapped): what `localhost` may resolve to on the local stack. */
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');
const isLoopback = (address: string) => (isIPv4(address) ? loopback.check(address, 'ipv4') : isIPv6(address) && !address.includes('%') && loopback.check(address, 'ipv6'));

/** An IP literal host as the URL parser leaves it (`[::1]` → `::1`), or null for a name. */
function ipLiteral(hostname: string): string | null {
  if (hostname.startsWith('[')) return isIPv6(hostname.slice(1, -1)) ? hostname.slice(1, -1) : null;
  return isIPv4(hostname) ? hostname : null;
}

/**
 * Checks everything about a URL that needs no DNS: scheme, credentials, port, and the host when it is
 * an IP address or an obviously internal name.
 * @returns the parsed URL.
 * @throws UnsafeUrlError saying what is wrong.
 */
export function checkUrlShape(raw: string, mode: UrlGuardMode): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UnsafeUrlError('must be an absolute URL');
  }
  if (url.username || url.password) throw new UnsafeUrlError('must not contain credentials');
  const local = isLocalAllowance(url, mode);
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
    throw new UnsafeUrlError(mode.allowLoopback ? 'must be https (or http://127.0.0.1:<port> or http://localhost:<port> on the local stack)' : 'must be https');
  }
  // 443 and unprivileged ports only: nothing aimed at SSH, SMTP or other well-known services.
  const port = url.port === '' ? 443 : Number(url.port);
  if (!local && port !== 443 && (port < 1024 || port > 65535)) throw new UnsafeUrlError('must use port 443 or a port from 1024 to 65535');
  if (local) return url;
  const host = url.hostname.replace(/\.$/, '').toLowerCase();
  const ip = ipLiteral(url.hostname);
  if (ip !== null) {
    if (!isPublicAddress(ip)) throw new UnsafeUrlError('must not point at a private, loopback, link-local or metadata address');
    return url;
  }
  if (!host.includes('.') || host === 'localhost' || BLOCKED_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
    throw new UnsafeUrlError('must be a public host name');
  }
  return url;
}

/**
 * The full check at registration: the shape, then every address the host resolves to must be public.
 * @throws UnsafeUrlError if the URL is refused or its host does not resolve.
 */
export async function checkWebhookUrl(raw: string, mode: UrlGuardMode, resolve: Resolve = systemResolve): Promise<URL> {
  const url = checkUrlShape(raw, mode);
  if (isLocalAllowance(url, mode) || ipLiteral(url.hostname) !== null) return url;
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(url.hostname);
  } catch {
    throw new UnsafeUrlError(`host ${url.hostname} does not resolve`);
  }
  if (addresses.length === 0) throw new UnsafeUrlError(`host ${url.hostname} does not resolve`);
  if (!addresses.every((a) => isPublicAddress(a.address))) {
    throw new UnsafeUrlError('must not resolve to a private, loopback, link-local or metadata address');
  }
  return url;
}

/**
 * A `lookup` for `net.connect`/`tls.connect` (the sender's `http.Agent` option) that resolves the name itself
 * and fails the connection unless every address is public, so the socket only ever opens to an address
 * we checked. On the local stack, `localhost` may also resolve to loopback.
 */
export function guardedLookup(mode: UrlGuardMode, resolve: Resolve = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    const allowLoopback = mode.allowLoopback && hostname.toLowerCase() === 'localhost';
    resolve(hostname).then(
      (all) => {
        const family = options.family === 4 || options.family === 6 ? options.family : 0;
        const addresses = all.filter((a) => family === 0 || a.family === family);
        const refused = addresses.find((a) => !(isPublicAddress(a.address) || (allowLoopback && isLoopback(a.address))));
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} does not resolve`), { code: 'ENOTFOUND' }), '', 4);
        if (refused) return callback(new UnsafeUrlError(`${hostname} resolved to ${refused.address}, which is not a public address`), '', 4);
        if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 4),
    );
  };
}
