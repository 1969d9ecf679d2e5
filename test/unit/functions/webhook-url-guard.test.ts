import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { WebhookHttpSender } from '../../../functions/webhooks/http-sender';
import { checkWebhookUrl, isPublicAddress, type Resolve } from '../../../functions/webhooks/url-guard';

/** DNS as the tests need it: names → addresses, no network. */
const zone: Record<string, string[]> = {
  'hooks.example.com': ['93.184.216.34'],
  'v6.example.com': ['2606:4700::1111'],
  'rebind.example.com': ['127.0.0.1'],
  'mixed.example.com': ['8.8.8.8', '10.0.0.1'],
  'mapped.example.com': ['::ffff:169.254.169.254'],
  'metadata.example.com': ['fd00:ec2::254'],
  'compat.example.com': ['::169.254.169.254'],
  'nat64.example.com': ['64:ff9b::10.0.0.1'],
};
const resolve: Resolve = async (name) => {
  const addresses = zone[name.replace(/\.$/, '').toLowerCase()];
  if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

const aws = { allowLoopback: false };
const local = { allowLoopback: true };

const allowed = (mode: typeof aws, url: string) =>
  checkWebhookUrl(url, mode, resolve).then(
    () => true,
    () => false,
  );

describe('the webhook SSRF guard', () => {
  // [url, accepted in AWS?, what it is]
  const awsTable: Array<[string, boolean, string]> = [
    ['https://hooks.example.com/webhook', true, 'a public name'],
    ['https://hooks.example.com:8443/x', true, 'an unprivileged port'],
    ['https://HOOKS.EXAMPLE.COM./x', true, 'upper case and a trailing dot'],
    ['https://93.184.216.34/hook', true, 'a public IPv4 literal'],
    ['https://[2606:4700::1111]/hook', true, 'a public IPv6 literal'],
    ['https://v6.example.com/', true, 'a name with a public IPv6 address'],
    ['http://hooks.example.com/', false, 'plain http'],
    ['ftp://hooks.example.com/', false, 'another scheme'],
    ['javascript:alert(1)', false, 'not http at all'],
    ['not a url', false, 'not a URL'],
    ['https://user:pw@hooks.example.com/', false, 'credentials'],
    ['https://user@hooks.example.com/', false, 'a user name'],
    ['https://hooks.example.com:22/', false, 'the SSH port'],
    ['https://hooks.example.com:25/', false, 'the SMTP port'],
    ['https://hooks.example.com:80/', false, 'port 80 under https'],
    ['https://hooks.example.com:0/', false, 'port 0'],
    ['https://127.0.0.1/', false, 'loopback'],
    ['https://2130706433/', false, 'loopback in decimal'],
    ['https://0177.0.0.1/', false, 'loopback in octal'],
    ['https://0x7f.0.0.1/', false, 'loopback in hex, dotted'],
    ['https://0x7f000001/', false, 'loopback in hex, one number'],
    ['https://127.1/', false, 'loopback, short form'],
    ['https://①②⑦.0.0.1/', false, 'loopback in full-width digits'],
    ['https://10.0.0.1/', false, 'RFC 1918 10/8'],
    ['https://172.16.5.4/', false, 'RFC 1918 172.16/12'],
    ['https://192.168.1.1/', false, 'RFC 1918 192.168/16'],
    ['https://100.64.0.1/', false, 'CGNAT'],
    ['https://100.100.100.200/', false, 'a cloud metadata address inside CGNAT'],
    ['https://169.254.169.254/latest/meta-data/', false, 'EC2 metadata'],
    ['https://0xa9fea9fe/', false, 'EC2 metadata in hex'],
    ['https://2852039166/', false, 'EC2 metadata in decimal'],
    ['https://0.0.0.0/', false, 'unspecified IPv4'],
    ['https://255.255.255.255/', false, 'broadcast'],
    ['https://224.0.0.1/', false, 'multicast IPv4'],
    ['https://192.0.2.10/', false, 'documentation range'],
    ['https://[::1]/', false, 'IPv6 loopback'],
    ['https://[::]/', false, 'unspecified IPv6'],
    ['https://[fd00:ec2::254]/', false, 'EC2 IPv6 metadata'],
    ['https://[fe80::1]/', false, 'IPv6 link-local'],
    ['https://[fc00::1]/', false, 'IPv6 unique local'],
    ['https://[ff02::1]/', false, 'IPv6 multicast'],
    ['https://[::ffff:127.0.0.1]/', false, 'IPv4-mapped loopback'],
    ['https://[::ffff:a9fe:a9fe]/', false, 'IPv4-mapped metadata, hex'],
    ['https://[0:0:0:0:0:ffff:10.0.0.1]/', false, 'IPv4-mapped private, long form'],
    ['https://[64:ff9b::a9fe:a9fe]/', false, 'NAT64 of metadata'],
    ['https://[2002:7f00:1::]/', false, '6to4 of loopback'],
    ['https://[::a9fe:a9fe]/', false, 'IPv4-compatible metadata'],
    ['https://[::169.254.169.254]/', false, 'IPv4-compatible metadata, dotted'],
    ['https://[0:0:0:0:0:0:a9fe:a9fe]/', false, 'IPv4-compatible metadata, long form'],
    ['https://[0000::A9FE:A9FE]/', false, 'IPv4-compatible metadata, upper case and zeros'],
    ['https://[::7f00:1]/', false, 'IPv4-compatible loopback'],
    ['https://[::10.0.0.1]/', false, 'IPv4-compatible private'],
    ['https://[::8.8.8.8]/', false, 'IPv4-compatible public (deprecated, refused whole)'],
    ['https://[::ffff:0:a9fe:a9fe]/', false, 'IPv4-translated metadata'],
    ['https://[::ffff:192.168.0.1]/', false, 'IPv4-mapped private, dotted'],
    ['https://[64:ff9b::169.254.169.254]/', false, 'NAT64 of metadata, dotted'],
    ['https://[64:ff9b::8.8.8.8]/', false, 'NAT64 of a public address (refused whole)'],
    ['https://[64:ff9b:1::a9fe:a9fe]/', false, 'local-use NAT64 of metadata'],
    ['https://[2002:a9fe:a9fe::1]/', false, '6to4 of metadata'],
    ['https://[2002:0a00:0001::]/', false, '6to4 of a private address'],
    ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', false, 'Teredo'],
    ['https://[4000::1]/', false, 'outside global unicast'],
    ['https://compat.example.com/', false, 'a name resolving to IPv4-compatible metadata'],
    ['https://nat64.example.com/', false, 'a name resolving to NAT64 of a private address'],
    ['https://localhost/', false, 'localhost'],
    ['https://metadata/', false, 'a single-label name'],
    ['https://metadata.google.internal/', false, 'an .internal name'],
    ['https://printer.local/', false, 'an mDNS name'],
    ['https://rebind.example.com/', false, 'a public-looking name resolving to loopback'],
    ['https://mixed.example.com/', false, 'a name with one private address among public ones'],
    ['https://mapped.example.com/', false, 'a name resolving to IPv4-mapped metadata'],
    ['https://metadata.example.com/', false, 'a name resolving to the IPv6 metadata address'],
    ['https://nx.example.com/', false, 'a name that does not resolve'],
    ['http://127.0.0.1:8080/', false, "the local stack's allowance, in AWS"],
    ['http://localhost:3000/', false, "the local stack's allowance, in AWS"],
  ];

  it(`has a table of at least 30 cases (${awsTable.length})`, () => expect(awsTable.length).toBeGreaterThanOrEqual(30));

  it.each(awsTable)('in AWS, %s → %s (%s)', async (url, expected) => {
    expect(await allowed(aws, url)).toBe(expected);
  });

  const localTable: Array<[string, boolean]> = [
    ['http://127.0.0.1:8080/hook', true],
    ['http://localhost:3000/hook', true],
    ['https://localhost:3000/hook', true],
    ['http://LOCALHOST:3000/hook', true],
    ['https://hooks.example.com/', true],
    ['http://127.0.0.2:8080/', false],
    ['http://[::1]:8080/', false],
    ['http://10.0.0.1:8080/', false],
    ['http://0x7f000002:8080/', false],
    ['http://localhost.localdomain:3000/', false],
    ['http://hooks.example.com/', false],
    ['http://user:pw@localhost:3000/', false],
    ['https://169.254.169.254/', false],
  ];
  it.each(localTable)('on the local stack, %s → %s', async (url, expected) => {
    expect(await allowed(local, url)).toBe(expected);
  });

  it('judges addresses by range, IPv4-mapped IPv6 as the IPv4 it carries', () => {
    expect(isPublicAddress('8.8.8.8')).toBe(true);
    expect(isPublicAddress('::ffff:8.8.8.8')).toBe(true);
    expect(isPublicAddress('::ffff:10.1.1.1')).toBe(false);
    expect(isPublicAddress('not an address')).toBe(false);
    expect(isPublicAddress('fe80::1%eth0')).toBe(false);
  });

  it('refuses the whole IPv4-compatible ::/96 and every IPv6 address outside global unicast 2000::/3, in any spelling', () => {
    for (const address of ['::a9fe:a9fe', '::169.254.169.254', '0:0:0:0:0:0:169.254.169.254', '::A9FE:A9FE', '::2', '::8.8.8.8', '::ffff:ffff', '0::0:0:1:0', '1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '4000::', 'e000::1']) {
      expect({ address, public: isPublicAddress(address) }).toEqual({ address, public: false });
    }
    for (const address of ['2000::1', '2606:4700::1111', '3ffe:ffff::1', '::FFFF:8.8.8.8', '0:0:0:0:0:ffff:808:808']) {
      expect({ address, public: isPublicAddress(address) }).toEqual({ address, public: true });
    }
  });

  /**
   * The oracle: ipaddr.js's range of the address (IPv4-mapped judged as its IPv4), as the guard used to ask
   * it, and for other IPv6 also inside global unicast 2000::/3 (ipaddr.js calls the rest, IPv4-compatible
   * ::/96 among it, unicast).
   */
  const oracle = (address: string) => {
    let parsed = ipaddr.parse(address);
    if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    if (parsed.kind() === 'ipv6' && !(parsed as ipaddr.IPv6).match(ipaddr.IPv6.parse('2000::'), 3)) return false;
    return parsed.range() === 'unicast';
  };
  const v4 = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
  const v6 = (n: bigint) => ipaddr.fromByteArray([...Array(16)].map((_, i) => Number((n >> BigInt(8 * (15 - i))) & 255n))).toString();
  /** Every special range ipaddr.js knows, as [first address, size] in each family. */
  const ranges = (family: 'ipv4' | 'ipv6') => {
    const table = (family === 'ipv4' ? ipaddr.IPv4 : ipaddr.IPv6).prototype as unknown as { SpecialRanges: Record<string, unknown> };
    return Object.values(table.SpecialRanges).flatMap((r) => ((r as unknown[])[0] instanceof Array ? (r as [ipaddr.IPv4 | ipaddr.IPv6, number][]) : [r as [ipaddr.IPv4 | ipaddr.IPv6, number]]));
  };
  const asBig = (a: ipaddr.IPv4 | ipaddr.IPv6) => a.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n);

  it('agrees with ipaddr.js on every address inside, at the edges of and just outside each of its special ranges', () => {
    const cases: string[] = [];
    for (const family of ['ipv4', 'ipv6'] as const) {
      const bits = family === 'ipv4' ? 32 : 128;
      const max = (1n << BigInt(bits)) - 1n;
      for (const [base, prefix] of ranges(family)) {
        const first = asBig(base);
        const last = first + (1n << BigInt(bits - prefix)) - 1n;
        for (const n of [first - 1n, first, first + 1n, (first + last) / 2n, last - 1n, last, last + 1n]) {
          if (n < 0n || n > max) continue;
          const text = family === 'ipv4' ? v4(Number(n)) : v6(n);
          cases.push(text);
          if (family === 'ipv4') cases.push(`::ffff:${text}`);
        }
      }
    }
    expect(cases.length).toBeGreaterThan(250);
    for (const address of cases) expect({ address, public: isPublicAddress(address) }).toEqual({ address, public: oracle(address) });
  });

  it('agrees with ipaddr.js on random addresses, IPv4, IPv4-mapped and IPv6', () => {
    const prefixes = ranges('ipv6').map(([base]) => asBig(base));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 2 ** 32 - 1 }).map(v4),
          fc.integer({ min: 0, max: 2 ** 32 - 1 }).map((n) => `::ffff:${v4(n)}`),
          fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map(v6),
          // Near a special IPv6 range: its first 32 bits, the rest random.
          fc.tuple(fc.constantFrom(...prefixes), fc.bigInt({ min: 0n, max: (1n << 96n) - 1n })).map(([p, low]) => v6(((p >> 96n) << 96n) | low)),
        ),
        (address) => {
          expect({ address, public: isPublicAddress(address) }).toEqual({ address, public: oracle(address) });
        },
      ),
      { numRuns: 5_000 },
    );
  });
});

describe('the connect-time check', () => {
  const withReceiver = async (fn: (port: number, hits: () => number) => Promise<void>) => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await fn((server.address() as AddressInfo).port, () => hits);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  };
  const request = (url: string) => ({ url, webhookId: 'msg_1', body: '{}', secrets: [`whsec_${Buffer.alloc(32, 1).toString('base64')}`], now: new Date(), timeoutMs: 2_000 });

  it('refuses a name that passed registration but resolves to loopback when connecting (DNS rebinding)', async () => {
    await withReceiver(async (port, hits) => {
      let lookups = 0;
      // Public at registration, loopback afterwards.
      const rebinding: Resolve = async () => [{ address: lookups++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
      const url = `https://hooks.example.com:${port}/hook`;
      await expect(checkWebhookUrl(url, aws, rebinding)).resolves.toBeInstanceOf(URL);
      const sender = new WebhookHttpSender(aws, rebinding);
      const outcome = await sender.send(request(url));
      await sender.close();
      expect(outcome).toMatchObject({ statusCode: null, error: expect.stringMatching(/refused: .*127\.0\.0\.1/) });
      expect(hits()).toBe(0);
    });
  });

  it('checks IP literals again at send time, and lets the local stack reach localhost through the guarded lookup', async () => {
    await withReceiver(async (port, hits) => {
      const awsSender = new WebhookHttpSender(aws);
      expect((await awsSender.send(request(`http://127.0.0.1:${port}/`))).error).toMatch(/^refused/);
      await awsSender.close();
      let looked = 0;
      const localSender = new WebhookHttpSender(local, async () => {
        looked++;
        return [{ address: '127.0.0.1', family: 4 }];
      });
      expect((await localSender.send(request(`http://localhost:${port}/`))).statusCode).toBe(200);
      await localSender.close();
      expect(looked).toBe(1);
      expect(hits()).toBe(1);
    });
  });
});
