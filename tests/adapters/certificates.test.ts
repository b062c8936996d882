/**
 * TLS certificates for the broker (issue 13): checkCertificate (parse, key match, dates, chain to
 * a CA, passphrase keys), the one add/remove path (store in secrets/ only what decide accepts),
 * the HTTP routes with their role floors, the expiry gauge and the daily `certificate.expiring`
 * security event. Real certificates made by openssl (tests/helpers/pki.ts); no mocks.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDomainError } from '../../core/errors.ts';
import { handleCommand } from '../../core/handle-command.ts';
import { addCertificate } from '../../adapters/certs/add-certificate.ts';
import { certSecretNames, createCertStore } from '../../adapters/certs/cert-store.ts';
import { checkCertificate, type CheckCertificateInput } from '../../adapters/certs/check-certificate.ts';
import { CERTIFICATE_EXPIRING, createCertificateExpiryCheck } from '../../adapters/certs/expiry-check.ts';
import { problemsWith } from '../../adapters/http/validate.ts';
import { createLiveBus, type LiveMessage } from '../../adapters/live/live-bus.ts';
import { createMetrics } from '../../adapters/metrics/registry.ts';
import { relaySecurityEvents } from '../../adapters/ws/security-event-relay.ts';
import { createTestApp, type TestApp } from '../helpers/http.ts';
import { encryptKey, makeCa, makeCert, type PkiFiles } from '../helpers/pki.ts';
import { freePort } from '../helpers/ports.ts';

type Pki = {
  root: PkiFiles; server: PkiFiles; client: PkiFiles; other: PkiFiles; byOther: PkiFiles; expired: PkiFiles; future: PkiFiles;
  inter: PkiFiles; leafOfInter: PkiFiles; soon: PkiFiles; encryptedKey: string;
};
let pki: Pki;
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcm-pki-'));
  const root = makeCa(dir, 'MCM Test Root');
  const other = makeCa(dir, 'Another CA');
  const server = makeCert(dir, { ca: root, cn: 'localhost' });
  const inter = makeCert(dir, { ca: root, cn: 'MCM Test Intermediate', isCa: true });
  pki = {
    root, other, server, inter,
    client: makeCert(dir, { ca: root, cn: 'sensor-1', client: true }),
    byOther: makeCert(dir, { ca: other, cn: 'localhost' }),
    expired: makeCert(dir, { ca: root, cn: 'old', notBefore: '2020-01-01T00:00:00Z', notAfter: '2020-01-02T00:00:00Z' }),
    future: makeCert(dir, { ca: root, cn: 'later', notBefore: '2099-01-01T00:00:00Z', notAfter: '2099-12-31T00:00:00Z' }),
    leafOfInter: makeCert(dir, { ca: inter, cn: 'edge.example' , sans: ['DNS:edge.example'] }),
    soon: makeCert(dir, { ca: root, cn: 'soon', days: 10 }),
    encryptedKey: encryptKey(dir, server.keyPem),
  };
});
after(() => rmSync(dir, { recursive: true, force: true }));

const NOW = (): Date => new Date();
const check = (input: Partial<CheckCertificateInput> & { certPem: string }) => checkCertificate({ name: 'server', now: NOW(), ...input });

/** Runs `fn`, expecting MCM_ERR_CERTIFICATE_INVALID; returns the error's message and details. */
const refused = (fn: () => unknown, field: string): string => {
  try {
    fn();
  } catch (e) {
    assert.ok(isDomainError(e), String(e));
    assert.equal(e.code, 'MCM_ERR_CERTIFICATE_INVALID', e.message);
    assert.equal(e.details[0]?.field, field, e.message);
    return e.message;
  }
  assert.fail('expected MCM_ERR_CERTIFICATE_INVALID');
};

/** The body of a PEM key (its base64 lines): what must never show up anywhere. */
const keyBody = (pem: string): string => pem.split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join('');
const leaksKey = (text: string, pem: string): boolean => text.includes('PRIVATE KEY') || text.replace(/\\n|\s/g, '').includes(keyBody(pem).slice(0, 40));

describe('checkCertificate', () => {
  it('accepts a certificate with its key and fills the facts (fingerprint as openssl prints it)', () => {
    const c = check({ certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.root.certPem, caName: 'root' });
    const openssl = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', pki.server.cert], { encoding: 'utf8' });
    assert.equal(c.fingerprint, openssl.trim().split('=')[1]);
    assert.equal(c.subject, 'CN=localhost');
    assert.equal(c.issuer, 'CN=MCM Test Root');
    assert.equal(c.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1');
    assert.equal(c.isCa, false);
    assert.equal(c.hasKey, true);
    assert.equal(c.ca, 'root');
    assert.ok(Date.parse(c.notBefore) <= Date.now() && Date.parse(c.notAfter) > Date.now() + 300 * 86_400_000);
    assert.deepEqual(c.notes, []);
    assert.match(c.keyPem ?? '', /^-----BEGIN PRIVATE KEY-----\n/);
  });

  it('accepts a CA certificate without a key', () => {
    const c = check({ name: 'root', certPem: pki.root.certPem });
    assert.equal(c.isCa, true);
    assert.equal(c.hasKey, false);
    assert.equal(c.keyPem, null);
  });

  it('refuses a key that belongs to another certificate, without quoting the key', () => {
    const message = refused(() => check({ certPem: pki.server.certPem, keyPem: pki.client.keyPem }), 'key');
    assert.match(message, /does not belong to the certificate "CN=localhost"/);
    assert.equal(leaksKey(message, pki.client.keyPem), false);
  });

  it('refuses an expired certificate and one not valid yet, with the dates', () => {
    assert.match(refused(() => check({ certPem: pki.expired.certPem, keyPem: pki.expired.keyPem }), 'cert'), /expired on 2020-01-02T00:00:00\.000Z \(valid from 2020-01-01T00:00:00\.000Z/);
    assert.match(refused(() => check({ certPem: pki.future.certPem, keyPem: pki.future.keyPem }), 'cert'), /not valid yet: valid from 2099-01-01T00:00:00\.000Z to 2099-12-31T00:00:00\.000Z/);
  });

  it('refuses a certificate that is not issued by the CA it names', () => {
    const message = refused(() => check({ certPem: pki.byOther.certPem, keyPem: pki.byOther.keyPem, caPem: pki.root.certPem, caName: 'root' }), 'ca');
    assert.match(message, /not issued by CA root: its issuer is "CN=Another CA"/);
    // Same issuer name, another key: the signature decides, not the name.
    const impostor = makeCa(dir, 'MCM Test Root');
    assert.match(refused(() => check({ certPem: pki.server.certPem, caPem: impostor.certPem, caName: 'fake-root' }), 'ca'), /as its issuer but was signed by another key than that CA's/);
    assert.match(refused(() => check({ certPem: pki.server.certPem, caPem: pki.client.certPem, caName: 'client' }), 'ca'), /client is not a CA certificate/);
  });

  it('reads a chain leaf first, checks every link up to the CA, and says so in a note', () => {
    const c = check({ name: 'edge', certPem: pki.leafOfInter.certPem + pki.inter.certPem, keyPem: pki.leafOfInter.keyPem, caPem: pki.root.certPem, caName: 'root' });
    assert.equal(c.subject, 'CN=edge.example');
    assert.match(c.notes[0] ?? '', /2 certificates were given: the first, "CN=edge\.example", is the one stored as edge/);
    assert.equal((c.certPem.match(/BEGIN CERTIFICATE/g) ?? []).length, 2);
    // Without the intermediate the leaf does not reach the root.
    refused(() => check({ name: 'edge', certPem: pki.leafOfInter.certPem, caPem: pki.root.certPem, caName: 'root' }), 'ca');
    // Links out of order.
    assert.match(refused(() => check({ name: 'edge', certPem: pki.leafOfInter.certPem + pki.root.certPem + pki.inter.certPem }), 'cert'), /the chain is broken/);
  });

  it('refuses a passphrase-protected key with the reason (Mosquitto cannot be given the passphrase)', () => {
    const message = refused(() => check({ certPem: pki.server.certPem, keyPem: pki.encryptedKey }), 'key');
    assert.match(message, /protected by a passphrase, which Mosquitto cannot be given without a prompt/);
    assert.equal(leaksKey(message, pki.encryptedKey), false);
  });

  it('refuses what is not a certificate or not a key, and a key given as the certificate, never echoing it', () => {
    assert.match(refused(() => check({ certPem: 'hello' }), 'cert'), /no certificate found/);
    const asCert = refused(() => check({ certPem: pki.server.keyPem }), 'cert');
    assert.match(asCert, /it holds a private key: give that as the key/);
    assert.equal(leaksKey(asCert, pki.server.keyPem), false);
    assert.match(refused(() => check({ certPem: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }), 'cert'), /not a readable X\.509 certificate/);
    assert.match(refused(() => check({ certPem: pki.server.certPem, keyPem: pki.server.certPem }), 'key'), /not a PEM private key/);
    assert.match(refused(() => check({ name: 'Bad Name', certPem: pki.server.certPem }), 'name'), /certificate name/);
  });

  it('reads the key from a PEM that holds both, with a note', () => {
    const c = check({ certPem: pki.server.certPem + pki.server.keyPem });
    assert.equal(c.hasKey, true);
    assert.match(c.notes.join(' '), /private key was read from the certificate PEM/);
    assert.doesNotMatch(c.certPem, /PRIVATE KEY/);
  });
});

describe('cert store', () => {
  it('keeps the PEM and key as 0600 files in secrets/, hashing names too long for a file name, and removes both', async (t) => {
    const h = await createTestApp(t, { users: false });
    const certs = createCertStore(h.deps.secrets);
    certs.write('server', 'CERT', 'KEY');
    assert.deepEqual(certs.read('server'), { cert: 'CERT', key: 'KEY' });
    assert.equal(statSync(h.deps.secrets.path('cert.server.key')).mode & 0o777, 0o600);
    assert.equal(statSync(h.deps.secrets.path('cert.server.crt')).mode & 0o777, 0o600);
    certs.write('server', 'CERT2', null);
    assert.deepEqual(certs.read('server'), { cert: 'CERT2', key: null });
    const long = 'a'.repeat(64);
    assert.match(certSecretNames(long).cert, /^certh\.[0-9a-f]{40}\.crt$/);
    certs.write(long, 'LONG', 'K');
    assert.deepEqual(certs.read(long), { cert: 'LONG', key: 'K' });
    certs.remove('server');
    certs.remove(long);
    assert.equal(certs.read('server'), null);
    assert.equal(certs.read(long), null);
    assert.throws(() => certs.read('../x'), /invalid certificate name/);
  });
});

const post = async (h: TestApp, body: unknown, role: 'admin' | 'operator' | 'viewer' = 'admin') =>
  h.request('POST', '/api/v1/certificates', { token: await h.tokenFor(role), body });

const storedFiles = (h: TestApp, name: string): boolean[] =>
  [certSecretNames(name).cert, certSecretNames(name).key].map((f) => existsSync(h.deps.secrets.path(f)));

describe('HTTP /api/v1/certificates', () => {
  it('POST stores the PEM and key in secrets/ and answers the view (201); GET lists it; the key is in no response or event', async (t) => {
    const h = await createTestApp(t);
    const res = await post(h, { name: 'server', cert: pki.server.certPem, key: pki.server.keyPem });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(problemsWith('CertificateAdded', res.body), []);
    assert.equal(res.headers.get('location'), '/api/v1/certificates/server');
    assert.equal(res.body.has_key, true);
    assert.equal(res.body.subject, 'CN=localhost');
    assert.ok(res.body.expires_in_days >= 363 && res.body.expires_in_days <= 365, String(res.body.expires_in_days));
    assert.deepEqual(res.body.uses, []);
    assert.deepEqual(storedFiles(h, 'server'), [true, true]);
    assert.equal(createCertStore(h.deps.secrets).read('server')?.key?.startsWith('-----BEGIN PRIVATE KEY-----'), true);

    const list = await h.request('GET', '/api/v1/certificates', { token: await h.tokenFor('viewer') });
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(problemsWith('CertificateList', list.body), []);
    assert.deepEqual(list.body.items.map((c: { name: string }) => c.name), ['server']);
    assert.equal(list.body.items[0].fingerprint, res.body.fingerprint);

    const events = await h.request('GET', '/api/v1/events', { token: await h.tokenFor('admin') });
    const audit = await h.request('GET', '/api/v1/audit-events', { token: await h.tokenFor('admin') });
    for (const text of [res.text, list.text, events.text, audit.text, JSON.stringify(h.store.read())]) {
      assert.equal(leaksKey(text, pki.server.keyPem), false, text.slice(0, 200));
    }
    const added = h.store.read().at(-1);
    assert.equal(added?.type, 'CertificateAdded');
    assert.equal(added?.stream, 'certificate:server');
  });

  it('a key of another certificate is refused (400) before anything is written: no file, no event', async (t) => {
    const h = await createTestApp(t);
    const before = h.eventCount();
    const res = await post(h, { name: 'server', cert: pki.server.certPem, key: pki.client.keyPem });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.error.code, 'MCM_ERR_CERTIFICATE_INVALID');
    assert.equal(h.eventCount(), before);
    assert.deepEqual(storedFiles(h, 'server'), [false, false]);
    assert.equal(leaksKey(res.text, pki.client.keyPem), false);
    const expired = await post(h, { name: 'old', cert: pki.expired.certPem, key: pki.expired.keyPem });
    assert.equal(expired.status, 400, expired.text);
    assert.match(expired.body.error.message, /expired on 2020-01-02/);
    assert.equal(h.eventCount(), before);
  });

  it('an existing name is refused (409) and keeps its files unless replace is true', async (t) => {
    const h = await createTestApp(t);
    assert.equal((await post(h, { name: 'server', cert: pki.server.certPem, key: pki.server.keyPem })).status, 201);
    const before = h.eventCount();
    const again = await post(h, { name: 'server', cert: pki.soon.certPem, key: pki.soon.keyPem });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.error.code, 'MCM_ERR_CERTIFICATE_EXISTS');
    assert.equal(h.eventCount(), before);
    assert.equal(createCertStore(h.deps.secrets).read('server')?.cert.trim(), pki.server.certPem.trim());
    const replaced = await post(h, { name: 'server', cert: pki.soon.certPem, key: pki.soon.keyPem, replace: true });
    assert.equal(replaced.status, 201, replaced.text);
    assert.equal(replaced.body.subject, 'CN=soon');
    assert.equal(createCertStore(h.deps.secrets).read('server')?.cert.trim(), pki.soon.certPem.trim());
  });

  it('chains to a stored CA; a CA that signed a stored certificate, or one a listener uses, cannot be removed (409)', async (t) => {
    const h = await createTestApp(t);
    assert.equal((await post(h, { name: 'root', cert: pki.root.certPem })).status, 201);
    const notChained = await post(h, { name: 'server', cert: pki.byOther.certPem, key: pki.byOther.keyPem, ca: 'root' });
    assert.equal(notChained.status, 400, notChained.text);
    assert.deepEqual(storedFiles(h, 'server'), [false, false]);
    const unknownCa = await post(h, { name: 'server', cert: pki.server.certPem, key: pki.server.keyPem, ca: 'nope' });
    assert.equal(unknownCa.status, 400, unknownCa.text);
    const res = await post(h, { name: 'server', cert: pki.server.certPem, key: pki.server.keyPem, ca: 'root' });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.ca, 'root');

    const admin = await h.tokenFor('admin');
    const rootInUse = await h.request('DELETE', '/api/v1/certificates/root', { token: admin });
    assert.equal(rootInUse.status, 409, rootInUse.text);
    assert.deepEqual(rootInUse.body.error.details[0].usedBy, ['certificate server']);

    handleCommand(h.deps, {
      type: 'SetBrokerListener',
      data: { listener: { name: 'tls', port: await freePort(), protocol: 'mqtt', tls: { certificate: 'server', ca: null, minVersion: 'tlsv1.2', requireCertificate: false, useIdentityAsUsername: false } } },
    }, { actor: { kind: 'system', id: 'test' } });
    const before = h.eventCount();
    const inUse = await h.request('DELETE', '/api/v1/certificates/server', { token: admin });
    assert.equal(inUse.status, 409, inUse.text);
    assert.equal(inUse.body.error.code, 'MCM_ERR_CERTIFICATE_IN_USE');
    assert.match(inUse.body.error.message, /listener tls/);
    assert.equal(h.eventCount(), before);
    assert.deepEqual(storedFiles(h, 'server'), [true, true]);
    const list = await h.request('GET', '/api/v1/certificates', { token: admin });
    assert.deepEqual(list.body.items.map((c: { name: string; uses: string[] }) => [c.name, c.uses]), [['root', ['certificate server']], ['server', ['listener tls']]]);
    // A replacement without its key no longer fits the listener: refused, old files kept.
    const keyless = await post(h, { name: 'server', cert: pki.server.certPem, ca: 'root', replace: true });
    assert.equal(keyless.status, 400, keyless.text);
    assert.deepEqual(storedFiles(h, 'server'), [true, true]);
  });

  it('DELETE removes the certificate and its files (204); an unknown name is 404', async (t) => {
    const h = await createTestApp(t);
    assert.equal((await post(h, { name: 'server', cert: pki.server.certPem, key: pki.server.keyPem })).status, 201);
    const admin = await h.tokenFor('admin');
    const res = await h.request('DELETE', '/api/v1/certificates/server', { token: admin });
    assert.equal(res.status, 204, res.text);
    assert.deepEqual(storedFiles(h, 'server'), [false, false]);
    assert.equal(h.store.read().at(-1)?.type, 'CertificateRemoved');
    const again = await h.request('DELETE', '/api/v1/certificates/server', { token: admin });
    assert.equal(again.status, 404, again.text);
    assert.equal((await h.request('DELETE', '/api/v1/certificates/constructor', { token: admin })).status, 404);
  });

  it('role floors: viewers list; operators and viewers may not add or remove (403, nothing changes)', async (t) => {
    const h = await createTestApp(t);
    assert.equal((await post(h, { name: 'server', cert: pki.server.certPem, key: pki.server.keyPem })).status, 201);
    const before = h.eventCount();
    for (const role of ['viewer', 'operator'] as const) {
      const add = await post(h, { name: `by-${role}`, cert: pki.client.certPem, key: pki.client.keyPem }, role);
      assert.equal(add.status, 403, add.text);
      const del = await h.request('DELETE', '/api/v1/certificates/server', { token: await h.tokenFor(role) });
      assert.equal(del.status, 403, del.text);
      assert.deepEqual(storedFiles(h, `by-${role}`), [false, false]);
    }
    assert.equal(h.eventCount(), before);
    assert.equal((await h.request('GET', '/api/v1/certificates', { token: await h.tokenFor('viewer') })).status, 200);
    assert.equal((await h.request('GET', '/api/v1/certificates')).status, 401);
  });

  it('refuses a body with unknown fields or an oversized certificate (400)', async (t) => {
    const h = await createTestApp(t);
    assert.equal((await post(h, { name: 'server', cert: pki.server.certPem, password: 'x' })).status, 400);
    assert.equal((await post(h, { name: 'server', cert: 'x'.repeat(131_073) })).status, 400);
  });
});

describe('certificate expiry', () => {
  it('exposes mcm_certificate_expiry_timestamp_seconds{name} on /metrics', async (t) => {
    const metrics = createMetrics();
    const h = await createTestApp(t, { deps: { metrics } });
    metrics.setSources({ certificates: () => Object.values(h.store.state().certificates ?? {}) });
    assert.equal((await post(h, { name: 'server', cert: pki.server.certPem, key: pki.server.keyPem })).status, 201);
    const res = await h.request('GET', '/metrics');
    assert.equal(res.status, 200);
    const notAfter = Date.parse(h.store.state().certificates?.['server']?.notAfter ?? '');
    assert.match(res.text, /^# TYPE mcm_certificate_expiry_timestamp_seconds gauge$/m);
    assert.ok(res.text.includes(`mcm_certificate_expiry_timestamp_seconds{name="server"} ${Math.floor(notAfter / 1000)}\n`), res.text);
  });

  it('raises certificate.expiring once per certificate per day within 30 days: warning, critical at 7 days or expired; relayed live', async (t) => {
    const h = await createTestApp(t, { users: false });
    const bus = createLiveBus();
    const live: LiveMessage[] = [];
    bus.subscribe((m) => { live.push(m); }, ['security_event']);
    const securityLog = relaySecurityEvents(h.deps.securityLog, bus);
    const deps = { store: h.store, clock: h.clock, certs: createCertStore(h.deps.secrets) };
    const actor = { actor: { kind: 'system', id: 'test' } } as const;
    addCertificate(deps, { name: 'server', cert: pki.server.certPem, key: pki.server.keyPem }, actor);
    addCertificate(deps, { name: 'soon', cert: pki.soon.certPem, key: pki.soon.keyPem }, actor);
    const expiry = createCertificateExpiryCheck({ store: h.store, securityLog, clock: h.clock });

    assert.deepEqual(expiry.check(), ['soon']);
    const first = h.deps.securityLog.list({ category: CERTIFICATE_EXPIRING }).items;
    assert.equal(first.length, 1);
    assert.equal(first[0]?.severity, 'warning');
    assert.equal(first[0]?.details['name'], 'soon');
    assert.match(first[0]?.message ?? '', /certificate soon \("CN=soon"\) expires on .*, in (9|10) days \(not used by the broker\)/);
    assert.equal(live.length, 1);
    assert.deepEqual(expiry.check(), [], 'once a day');

    h.clock.advance(4 * 86_400);
    assert.deepEqual(expiry.check(), ['soon'], 'a new day: raised again');
    assert.equal(h.deps.securityLog.list({ category: CERTIFICATE_EXPIRING }).items[0]?.severity, 'critical');

    h.clock.advance(7 * 86_400);
    assert.deepEqual(expiry.check(), ['soon']);
    const expired = h.deps.securityLog.list({ category: CERTIFICATE_EXPIRING }).items[0];
    assert.equal(expired?.severity, 'critical');
    assert.match(expired?.message ?? '', /certificate soon \("CN=soon"\) expired on/);
    // A restart the same day: the security event table remembers.
    assert.deepEqual(createCertificateExpiryCheck({ store: h.store, securityLog, clock: h.clock }).check(), []);
    assert.equal(live.length, 3);
  });
});
