/**
 * The SSRF guard (issue 5: "private address ranges refused unless allowed in config"): which
 * addresses are refused, that every resolved address counts, and that allow_private skips the
 * check. DNS is a fake here, so nothing depends on the machine's resolver.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertPublicWebhookHost, blockedRange, hostOf } from '../../adapters/webhooks/address-guard.ts';
import { isDomainError } from '../../core/errors.ts';

const fakeDns = (table: Record<string, string[]>) => async (host: string): Promise<string[]> => {
  const found = table[host];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found;
};

const rejectsWith = async (p: Promise<unknown>, code: string, message?: RegExp): Promise<void> => {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isDomainError(e), String(e));
    assert.equal(e.code, code);
    if (message) assert.match(e.message, message);
    return true;
  });
};

describe('blockedRange', () => {
  it('refuses loopback, RFC 1918, link-local, CGNAT, unspecified, multicast and their IPv6 counterparts', () => {
    const refused = [
      '127.0.0.1', '127.255.255.254', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.1.1',
      '169.254.169.254', '100.64.0.1', '100.127.255.255', '0.0.0.0', '224.0.0.1', '239.255.255.250', '255.255.255.255',
      '::1', '::', 'fc00::1', 'fd12:3456::1', 'fe80::1', 'febf::1', 'ff02::1',
    ];
    assert.deepEqual(refused.filter((a) => blockedRange(a) === null), [], 'all of these are refused');
  });

  it('refuses the IPv4-mapped (and NAT64/compatible) IPv6 forms of refused IPv4 addresses', () => {
    for (const a of ['::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.1.2.3', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe', '::7f00:1']) {
      assert.notEqual(blockedRange(a), null, a);
    }
  });

  it('lets public addresses through, including the edges just outside the ranges', () => {
    const allowed = ['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.1', '100.63.255.255', '100.128.0.1', '192.169.0.1',
      '11.0.0.1', '203.0.113.10', '2001:4860:4860::8888', '2606:4700::1111', '::ffff:8.8.8.8'];
    assert.deepEqual(allowed.filter((a) => blockedRange(a) !== null), [], 'none of these is refused');
  });

  it('names the range in its answer', () => {
    assert.equal(blockedRange('127.0.0.1'), 'loopback');
    assert.equal(blockedRange('169.254.169.254'), 'link-local');
    assert.equal(blockedRange('100.64.0.1'), 'carrier-grade NAT (RFC 6598)');
  });
});

describe('assertPublicWebhookHost', () => {
  it('refuses a literal private address with MCM_ERR_WEBHOOK_PRIVATE_ADDRESS naming the config key', async () => {
    await rejectsWith(assertPublicWebhookHost('http://127.0.0.1:8080/hook', { allowPrivate: false }), 'MCM_ERR_WEBHOOK_PRIVATE_ADDRESS', /webhooks\.allow_private/);
    await rejectsWith(assertPublicWebhookHost('http://[::1]/hook', { allowPrivate: false }), 'MCM_ERR_WEBHOOK_PRIVATE_ADDRESS', /loopback/);
    await rejectsWith(assertPublicWebhookHost('http://[::ffff:192.168.0.1]/', { allowPrivate: false }), 'MCM_ERR_WEBHOOK_PRIVATE_ADDRESS');
    // WHATWG URL turns decimal/hex IPv4 spellings into dotted quads, so they are caught too.
    await rejectsWith(assertPublicWebhookHost('http://2130706433/', { allowPrivate: false }), 'MCM_ERR_WEBHOOK_PRIVATE_ADDRESS');
    await rejectsWith(assertPublicWebhookHost('http://0x7f.1/', { allowPrivate: false }), 'MCM_ERR_WEBHOOK_PRIVATE_ADDRESS');
  });

  it('resolves names and refuses when ANY address is private (a public and a private record)', async () => {
    const resolve = fakeDns({ 'mixed.example.test': ['93.184.215.14', '10.0.0.7'], 'metadata.example.test': ['169.254.169.254'] });
    await rejectsWith(assertPublicWebhookHost('https://mixed.example.test/h', { allowPrivate: false, resolve }), 'MCM_ERR_WEBHOOK_PRIVATE_ADDRESS', /10\.0\.0\.7/);
    await rejectsWith(assertPublicWebhookHost('https://metadata.example.test/', { allowPrivate: false, resolve }), 'MCM_ERR_WEBHOOK_PRIVATE_ADDRESS', /link-local/);
  });

  it('accepts a name whose addresses are all public', async () => {
    const resolve = fakeDns({ 'hooks.example.test': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] });
    await assertPublicWebhookHost('https://hooks.example.test/h', { allowPrivate: false, resolve });
  });

  it('refuses a name that does not resolve with MCM_ERR_WEBHOOK_INVALID (nothing could be checked)', async () => {
    await rejectsWith(assertPublicWebhookHost('https://nowhere.example.test/', { allowPrivate: false, resolve: fakeDns({}) }), 'MCM_ERR_WEBHOOK_INVALID', /ENOTFOUND/);
  });

  it('skips the check (and DNS) when config webhooks.allow_private is true', async () => {
    let asked = 0;
    const resolve = async (): Promise<string[]> => { asked += 1; return ['127.0.0.1']; };
    await assertPublicWebhookHost('http://127.0.0.1:9/', { allowPrivate: true, resolve });
    await assertPublicWebhookHost('http://receiver.local.test/', { allowPrivate: true, resolve });
    assert.equal(asked, 0);
  });

  it('strips IPv6 brackets from the host', () => {
    assert.equal(hostOf('http://[fe80::1]:8080/x'), 'fe80::1');
    assert.equal(hostOf('https://Hooks.Example.com/x'), 'hooks.example.com');
  });
});
