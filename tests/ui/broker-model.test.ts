/**
 * ui/data/broker-model.ts, broker-forms.ts and certificate-model.ts: the draft and its body, the
 * forms, the words the screen shows, and — against the real HTTP app (createTestApp with a
 * BrokerConfigPort rendering with the real renderer) — load, preview (nothing appended), confirm
 * with the preview's seq, a stale preview (412), refusals mapped to their row and field, a
 * bridge's write-only password, external mode, and certificates made by openssl.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createApiClient } from '../../ui/data/api-client.ts';
import {
  applyConfig, changeText, configBody, diffLines, draftChanged, draftOf, fieldLabel, loadBroker, parseConfigView, passwordState, previewConfig,
  putBridge, putListener, removeBridge, removeListener, renderedValues, reservedListeners, restartText, rowProblems, setOption,
  type BridgeDraft, type BrokerConfigDraft, type CertificateView, type Listener,
} from '../../ui/data/broker-model.ts';
import {
  bindText, bridgeForm, bridgeFromForm, defaultText, globalOptions, kindText, listenerForm, listenerFromForm, optionFromText, optionText,
  parseAddresses, tlsText, topicText,
} from '../../ui/data/broker-forms.ts';
import {
  certificateBody, certificateChoices, certificateKind, emptyCertificateForm, expiryText, expiryTone, removeCertificate, uploadCertificate,
} from '../../ui/data/certificate-model.ts';
import { catalogFor } from '../../core/broker-config/catalog.ts';
import { testBrokerConfigPort } from '../helpers/broker-config-port.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD, type TestApp } from '../helpers/http.ts';
import { makeCa, makeCert } from '../helpers/pki.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const EMPTY: BrokerConfigDraft = { listeners: [], options: {}, bridges: [], passthrough: [] };
const WS: Listener = { name: 'ws', port: 18080, protocol: 'websockets', address: null, bindInterface: 'lo', tls: null, maxConnections: null };
const BRIDGE: BridgeDraft = {
  name: 'cloud', addresses: [{ host: 'mqtt.example.com', port: 8883 }], remoteUsername: 'edge', hasRemotePassword: false, remoteClientId: null,
  tls: null, topics: [{ pattern: 'plant/#', direction: 'out', qos: 1, localPrefix: '', remotePrefix: '' }], cleansession: false, keepalive: 60,
};

describe('ui/data broker-model (pure)', () => {
  it('edits a draft without touching what was read, and knows when it differs', () => {
    const base = draftOf(EMPTY);
    let d = putListener(base, WS, null);
    assert.equal(base.listeners.length, 0, 'the base is not mutated');
    assert.ok(draftChanged(d, base));
    d = putListener(d, { ...WS, name: 'browsers', port: 18081 }, 'ws');
    assert.deepEqual(d.listeners.map((l) => `${l.name}:${l.port}`), ['browsers:18081'], 'replacing by name may rename');
    d = setOption(d, 'autosave_interval', 300);
    assert.equal(d.options['autosave_interval'], 300);
    d = removeListener(setOption(d, 'autosave_interval', undefined), 'browsers');
    assert.equal(draftChanged(d, base), false, 'back to the same configuration');
    assert.equal(draftChanged({ ...base, options: { b: 1, a: true } }, { ...base, options: { a: true, b: 1 } }), false, 'key order does not matter');
    assert.equal(removeBridge(putBridge(base, BRIDGE, null), 'cloud').bridges.length, 0);
  });

  it('the body: hasRemotePassword is dropped; remotePassword only when set or removed', () => {
    const stored = { ...BRIDGE, hasRemotePassword: true };
    const body = (b: BridgeDraft) => (configBody({ ...EMPTY, bridges: [b] }).config['bridges'] as Record<string, unknown>[])[0] ?? {};
    assert.ok(!('hasRemotePassword' in body(stored)) && !('remotePassword' in body(stored)), 'kept: neither field is sent');
    assert.equal(body({ ...stored, remotePassword: 'new-secret' })['remotePassword'], 'new-secret');
    assert.equal(body({ ...stored, remotePassword: null })['remotePassword'], null);
    assert.equal(passwordState(stored), 'stored');
    assert.equal(passwordState({ ...stored, remotePassword: 'x' }), 'new');
    assert.equal(passwordState({ ...stored, remotePassword: null }), 'removed');
    assert.equal(passwordState(BRIDGE), 'none');
  });

  it('reads the view, refuses what is not one, and maps refusals to rows and fields', () => {
    assert.equal(parseConfigView({ config: {} }, null), null);
    const v = parseConfigView({ config: { listeners: [{ name: 'a', port: 1 }], options: { persistence: true, bad: {} } }, managed: true, version: '2.1', reserved_ports: [1883, 'x'], rendered: null, catalog: [] }, '"7"');
    assert.ok(v);
    assert.equal(v.version, '2.1');
    assert.equal(v.seq, 7);
    assert.deepEqual(v.reservedPorts, [1883]);
    assert.deepEqual(v.config.options, { persistence: true });
    assert.deepEqual(v.config.listeners[0], { name: 'a', port: 1, protocol: 'mqtt', address: null, bindInterface: null, tls: null, maxConnections: null });
    const problems = [
      { field: 'listeners[1].port', message: 'p' }, { field: 'listeners[1].tls.certificate', message: 'c' }, { field: 'listeners[1].port', message: 'second' },
      { field: 'listeners[10].name', message: 'other row' }, { field: 'listeners[1]', message: 'row' }, { field: 'bridges[0].topics[2].pattern', message: 't' },
    ];
    assert.deepEqual(rowProblems(problems, 'listeners[1]'), { port: 'p', 'tls.certificate': 'c', '': 'row' });
    assert.deepEqual(rowProblems(problems, 'bridges[0]'), { 'topics[2].pattern': 't' });
    const d = { ...EMPTY, listeners: [WS] };
    assert.equal(fieldLabel('listeners[0].port', d), 'listener "ws" › port');
    assert.equal(fieldLabel('listeners[3]', d), 'listener #4');
    assert.equal(fieldLabel('options.max_keepalive', d), 'option max_keepalive');
  });

  it('says what a preview means: restart and clients, or a reload, or nothing', () => {
    const restart = { what: 'listener ws', kind: 'added' as const, apply: 'restart' as const };
    assert.equal(restartText({ changes: [], restartNeeded: false, clientsDropped: 0 }), 'Nothing to apply: this is the configuration the broker has.');
    assert.match(restartText({ changes: [{ ...restart, apply: 'reload' }], restartNeeded: false, clientsDropped: 0 }), /reload: connected clients stay connected/);
    assert.match(restartText({ changes: [restart], restartNeeded: true, clientsDropped: 3 }), /^Restart needed — 3 clients will be disconnected/);
    assert.match(restartText({ changes: [restart], restartNeeded: true, clientsDropped: 1 }), /1 client will be/);
    assert.match(restartText({ changes: [restart], restartNeeded: true, clientsDropped: null }), /not known/);
    assert.equal(changeText(restart), 'listener ws added');
    assert.deepEqual(diffLines('--- a\n+++ b\n@@ -1 +1 @@\n-x\n+y\n z\n').map((l) => l.kind), ['meta', 'meta', 'hunk', 'del', 'add', 'same']);
  });

  it('MCM\'s own listeners and option values come from the rendered file', () => {
    const rendered = 'listener 1883 127.0.0.1\nprotocol mqtt\n\nlistener 9001 lo\nprotocol websockets\n\n# listener x\nlistener 8883\nprotocol mqtt\n\nlog_type error\nlog_type warning\npersistence true\n';
    assert.deepEqual(reservedListeners([1883, 9001, 8883, 7], rendered), [
      { port: 1883, bind: '127.0.0.1', protocol: 'mqtt' },
      { port: 9001, bind: 'lo', protocol: 'websockets' },
      { port: 8883, bind: null, protocol: null },
      { port: 7, bind: null, protocol: null },
    ]);
    assert.deepEqual(renderedValues(rendered, 'log_type'), ['error', 'warning']);
    assert.deepEqual(renderedValues(rendered, 'persistence'), ['true']);
    assert.deepEqual(renderedValues(null, 'persistence'), []);
  });
});

describe('ui/data broker-forms (pure)', () => {
  it('a listener form: numbers checked, websockets binds an interface, TLS needs a certificate', () => {
    const f = { ...listenerForm(), name: 'ws', port: '18080', protocol: 'websockets' as const, address: '127.0.0.1', bindInterface: 'lo' };
    assert.deepEqual(listenerFromForm(f).listener, WS, 'the address is dropped for websockets');
    assert.deepEqual(listenerFromForm(listenerForm(WS)).listener, WS, 'round trip');
    assert.deepEqual(listenerFromForm({ ...f, port: '70000', maxConnections: '0', name: 'Bad Name' }).problems, {
      name: "1–32 of a-z, 0-9 and '-', starting with a letter or digit", port: 'a whole number from 1 to 65,535', maxConnections: 'a whole number from 1 to 2,147,483,647',
    });
    assert.match(listenerFromForm({ ...f, port: '1883' }, [1883]).problems['port'] ?? '', /MCM's own listener/);
    const tls = listenerFromForm({ ...f, protocol: 'mqtt', tls: true, requireCertificate: true });
    assert.deepEqual(Object.keys(tls.problems), ['tls.certificate', 'tls.ca']);
    const ok = listenerFromForm({ ...f, protocol: 'mqtt', bindInterface: '', tls: true, certificate: 'broker', ca: 'plant-ca', requireCertificate: true, useIdentityAsUsername: true, maxConnections: '500' }).listener;
    assert.ok(ok);
    assert.equal(bindText(ok), '127.0.0.1');
    assert.equal(bindText(WS), 'interface lo');
    assert.equal(tlsText(ok), 'TLS 1.2+ (broker), client certificate required (plant-ca), CN as username');
    assert.equal(tlsText(WS), 'none');
  });

  it('a bridge form: addresses, topic lines, and the write-only password kept, replaced or removed', () => {
    assert.deepEqual(parseAddresses('a.example:8883, 10.0.0.1\n[::1]:1884'), { addresses: [{ host: 'a.example', port: 8883 }, { host: '10.0.0.1', port: 1883 }, { host: '::1', port: 1884 }], problem: null });
    assert.match(parseAddresses('h:99999').problem ?? '', /not host:port/);
    assert.equal(parseAddresses(' ').problem, 'at least one host:port');
    const stored: BridgeDraft = { ...BRIDGE, hasRemotePassword: true };
    const form = bridgeForm(stored);
    assert.equal(form.password, '', 'the password is never shown');
    assert.equal(form.hasRemotePassword, true);
    assert.deepEqual(bridgeFromForm(form).bridge, stored, 'untouched: the stored password is kept (no remotePassword)');
    assert.equal(bridgeFromForm({ ...form, password: 'pw-new' }).bridge?.remotePassword, 'pw-new');
    assert.equal(bridgeFromForm({ ...form, removePassword: true }).bridge?.remotePassword, null);
    assert.deepEqual(bridgeFromForm({ ...bridgeForm(), name: 'x', addresses: 'h', remoteUsername: '', password: 'p' }).problems, {
      topics: 'at least one topic line', remoteUsername: 'a remote password needs a remote username',
    });
    const topics = bridgeFromForm({ ...form, topics: [{ pattern: '', direction: 'in', qos: '2', localPrefix: 'l/', remotePrefix: 'r/' }, { pattern: ' ', direction: 'both', qos: '0', localPrefix: '', remotePrefix: '' }] }).bridge?.topics;
    assert.deepEqual(topics, [{ pattern: '', direction: 'in', qos: 2, localPrefix: 'l/', remotePrefix: 'r/' }], 'empty lines are dropped');
    assert.equal(topicText(topics?.[0] ?? BRIDGE.topics[0]!), '"" in 2 l/ r/');
    assert.equal(topicText(BRIDGE.topics[0]!), 'plant/# out 1');
  });

  it('options from the catalog: type, range, default and the typed value', () => {
    const globals = globalOptions(catalogFor('2.0'));
    assert.ok(globals.length > 0 && globals.every((d) => d.scope === 'global'));
    const byName = (n: string) => globals.find((d) => d.name === n)!;
    assert.equal(kindText(byName('persistence')), 'true / false');
    assert.equal(kindText(byName('autosave_interval')), 'whole number 0–86,400');
    assert.match(kindText(byName('log_type')), /^any of error, warning/);
    assert.equal(defaultText(byName('max_packet_size'), '2.0'), 'none (unlimited)');
    assert.equal(defaultText(byName('max_packet_size'), '2.1'), '2,000,000');
    assert.deepEqual(optionFromText(byName('autosave_interval'), ' 300 '), { value: 300, problem: null });
    assert.deepEqual(optionFromText(byName('autosave_interval'), ''), { value: undefined, problem: null });
    assert.match(optionFromText(byName('autosave_interval'), '90000').problem ?? '', /0 to 86,400/);
    assert.deepEqual(optionFromText(byName('persistence'), 'false'), { value: false, problem: null });
    assert.deepEqual(optionFromText(byName('log_type'), 'websockets, error'), { value: ['websockets', 'error'], problem: null });
    assert.match(optionFromText(byName('log_type'), 'debug').problem ?? '', /debug/);
    assert.equal(optionText(['error', 'websockets']), 'error websockets');
    assert.equal(optionText(undefined), '');
  });

  it('certificates: expiry tone and words, choices, the upload body', () => {
    assert.equal(expiryTone({ expires_in_days: 31 }), '');
    assert.equal(expiryTone({ expires_in_days: 30 }), 'warn');
    assert.equal(expiryTone({ expires_in_days: 0 }), 'warn');
    assert.equal(expiryTone({ expires_in_days: -1 }), 'error');
    assert.equal(expiryText({ expires_in_days: -1 }), 'expired yesterday');
    assert.equal(expiryText({ expires_in_days: -40 }), 'expired 40 days ago');
    assert.equal(expiryText({ expires_in_days: 0 }), 'expires today');
    assert.equal(expiryText({ expires_in_days: 1200 }), 'expires in 1,200 days');
    const c = (name: string, is_ca: boolean, has_key: boolean) => ({ name, is_ca, has_key }) as CertificateView;
    assert.deepEqual(certificateChoices([c('ca', true, false), c('srv', false, true), c('plain', false, false)]), { withKey: ['srv'], cas: ['ca'] });
    assert.equal(certificateKind(c('x', true, true)), 'CA, private key');
    assert.equal(certificateKind(c('x', false, false)), 'certificate only');
    assert.deepEqual(certificateBody(emptyCertificateForm()).problems, { name: 'required', cert: 'paste or upload a PEM certificate (-----BEGIN CERTIFICATE-----)' });
    const pem = '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n';
    assert.deepEqual(certificateBody({ name: 'srv', cert: pem, key: '  ', ca: '', replace: false }).body, { name: 'srv', cert: pem });
    assert.deepEqual(certificateBody({ name: 'srv', cert: pem, key: 'nope', ca: 'ca', replace: true }).problems, { key: 'a PEM private key (-----BEGIN PRIVATE KEY-----), or leave it empty' });
  });
});

const apiAs = async (h: TestApp, role: 'viewer' | 'operator' | 'admin') => {
  const token = await h.tokenFor(role);
  return createApiClient({ fetch, origin: h.baseUrl, token: () => token });
};

const managedApp = (t: Parameters<typeof createTestApp>[0], clients = 0) =>
  createTestApp(t, { deps: { brokerConfig: testBrokerConfigPort({ connectedClients: () => clients }) } });

describe('ui/data broker-model against the real HTTP app', () => {
  it('load → add a websockets listener → preview (nothing appended) → confirm with the preview\'s seq', async (t) => {
    const h = await managedApp(t, 2);
    const viewer = await loadBroker(await apiAs(h, 'viewer'));
    assert.equal(viewer.view.managed, true);
    assert.deepEqual(viewer.view.reservedPorts, [1883]);
    assert.deepEqual(reservedListeners(viewer.view.reservedPorts, viewer.view.rendered), [{ port: 1883, bind: '127.0.0.1', protocol: 'mqtt' }]);
    assert.ok(globalOptions(viewer.view.catalog).some((d) => d.name === 'persistence'));
    assert.deepEqual(renderedValues(viewer.view.rendered, 'persistence'), ['true'], "MCM's default, read from the file");
    assert.equal(viewer.view.seq, h.eventCount());

    const operator = await apiAs(h, 'operator');
    const draft = putListener(draftOf(viewer.view.config), WS, null);
    const head = h.eventCount();
    const preview = await previewConfig(operator, draft);
    assert.equal(preview.kind, 'ok');
    if (preview.kind !== 'ok') return;
    assert.equal(h.eventCount(), head, 'a preview appends nothing');
    assert.equal(preview.value.seq, head);
    assert.match(preview.value.diff, /^\+listener 18080 lo$/m);
    assert.match(preview.value.diff, /^\+protocol websockets$/m);
    assert.deepEqual(preview.value.changes, [{ what: 'listener ws', kind: 'added', apply: 'restart' }]);
    assert.equal(preview.value.restartNeeded, true);
    assert.equal(preview.value.clientsDropped, 2);
    assert.match(restartText(preview.value), /^Restart needed — 2 clients will be disconnected/);

    const refused = await applyConfig(operator, draft, preview.value);
    assert.equal(refused.kind, 'error', 'an operator previews, an admin applies');
    if (refused.kind === 'error') assert.equal(refused.status, 403);
    const admin = await apiAs(h, 'admin');
    const applied = await applyConfig(admin, draft, preview.value);
    assert.equal(applied.kind, 'ok', JSON.stringify(applied));
    if (applied.kind !== 'ok') return;
    assert.equal(applied.value.restartNeeded, true);
    assert.equal(applied.value.writeSeq, h.eventCount(), 'the write to follow is the new head');
    assert.deepEqual(applied.value.config.listeners, [WS]);
    const after = await loadBroker(admin);
    assert.deepEqual(after.view.config.listeners, [WS]);
    assert.match(after.view.rendered ?? '', /^listener 18080 lo$/m);
    assert.equal(draftChanged(draftOf(after.view.config), draft), false);

    // Without If-Match the server refuses a restart (428): why the model always sends it.
    const raw = await h.request('PUT', '/api/v1/broker/config', { token: await h.tokenFor('admin'), body: configBody(removeListener(draft, 'ws')) });
    assert.equal(raw.status, 428);
  });

  it('a reload-only option; a stale preview is refused (412) and changes nothing', async (t) => {
    const h = await managedApp(t);
    const admin = await apiAs(h, 'admin');
    const base = (await loadBroker(admin)).view.config;
    const draft = setOption(draftOf(base), 'autosave_interval', 300);
    const preview = await previewConfig(admin, draft);
    assert.equal(preview.kind, 'ok');
    if (preview.kind !== 'ok') return;
    assert.equal(preview.value.restartNeeded, false);
    assert.deepEqual(preview.value.changes, [{ what: 'option autosave_interval', kind: 'added', apply: 'reload' }]);
    assert.match(restartText(preview.value), /reload/);
    // Someone else changes the broker configuration in between.
    const other = await previewConfig(admin, putListener(draftOf(base), WS, null));
    assert.equal(other.kind, 'ok');
    if (other.kind !== 'ok') return;
    assert.equal((await applyConfig(admin, putListener(draftOf(base), WS, null), other.value)).kind, 'ok');
    const head = h.eventCount();
    const stale = await applyConfig(admin, draft, preview.value);
    assert.equal(stale.kind, 'stale', JSON.stringify(stale));
    assert.equal(h.eventCount(), head);
  });

  it('refusals come back by row and field; nothing appended', async (t) => {
    const h = await managedApp(t);
    const admin = await apiAs(h, 'admin');
    const head = h.eventCount();
    const draft: BrokerConfigDraft = {
      ...EMPTY,
      listeners: [{ ...WS, name: 'own', port: 1883 }, { ...WS, address: '127.0.0.1', bindInterface: null }],
      options: { sys_interval: 0 },
    };
    const out = await previewConfig(admin, draft);
    assert.equal(out.kind, 'invalid');
    if (out.kind !== 'invalid') return;
    assert.match(rowProblems(out.problems, 'listeners[0]')['port'] ?? '', /MCM's own listener/);
    assert.match(rowProblems(out.problems, 'listeners[1]')['address'] ?? '', /websockets listener ignores an IP address/);
    assert.ok(out.problems.some((p) => p.field === 'options.sys_interval'));
    assert.equal(fieldLabel('listeners[1].address', draft), 'listener "ws" › address');
    const put = await applyConfig(admin, draft, { seq: head });
    assert.equal(put.kind, 'invalid');
    assert.equal(h.eventCount(), head);
  });

  it('a bridge password is write-only: set, shown as stored, kept when the bridge is edited', async (t) => {
    const h = await managedApp(t);
    const admin = await apiAs(h, 'admin');
    const base = (await loadBroker(admin)).view.config;
    const draft = putBridge(draftOf(base), { ...BRIDGE, remotePassword: 'remote-secret-1' }, null);
    const preview = await previewConfig(admin, draft);
    assert.equal(preview.kind, 'ok');
    if (preview.kind !== 'ok') return;
    assert.match(preview.value.diff, /^\+remote_password \*{8}$/m);
    assert.ok(!preview.value.diff.includes('remote-secret-1') && !preview.value.rendered.includes('remote-secret-1'));
    assert.equal((await applyConfig(admin, draft, preview.value)).kind, 'ok');
    const loaded = await loadBroker(admin);
    const b = loaded.view.config.bridges[0];
    assert.ok(b);
    assert.equal(b.hasRemotePassword, true);
    assert.equal(passwordState(b), 'stored');
    assert.ok(!JSON.stringify(loaded.view).includes('remote-secret-1'));
    // Edit the keepalive only: the stored password stays.
    const edited = bridgeFromForm({ ...bridgeForm(b), keepalive: '30' }).bridge;
    assert.ok(edited);
    const d2 = putBridge(draftOf(loaded.view.config), edited, 'cloud');
    const p2 = await previewConfig(admin, d2);
    assert.equal(p2.kind, 'ok');
    if (p2.kind !== 'ok') return;
    assert.match(p2.value.diff, /^\+keepalive_interval 30$/m);
    assert.doesNotMatch(p2.value.diff, /^-remote_password/m);
    assert.equal((await applyConfig(admin, d2, p2.value)).kind, 'ok');
    assert.equal((await loadBroker(admin)).view.config.bridges[0]?.hasRemotePassword, true);
    // Removing it.
    const d3 = putBridge(d2, { ...edited, remotePassword: null }, 'cloud');
    const p3 = await previewConfig(admin, d3);
    assert.equal(p3.kind, 'ok');
    if (p3.kind !== 'ok') return;
    assert.match(p3.value.diff, /^-remote_password \*{8}$/m);
  });

  it('external mode: read-only (managed false, nothing rendered), a preview is refused', async (t) => {
    const h = await createTestApp(t);
    const admin = await apiAs(h, 'admin');
    const data = await loadBroker(admin);
    assert.equal(data.view.managed, false);
    assert.equal(data.view.rendered, null);
    const out = await previewConfig(admin, putListener(draftOf(data.view.config), WS, null));
    assert.equal(out.kind, 'error');
    if (out.kind === 'error') {
      assert.equal(out.code, 'MCM_ERR_BROKER_CONFIG_UNMANAGED');
      assert.equal(out.status, 409);
    }
  });

  it('certificates: upload (admin), a refused PEM by field, expiry tones, used by a listener, removal refused while used', async (t) => {
    const h = await managedApp(t);
    const admin = await apiAs(h, 'admin');
    const pki = tempDir(t, 'mcm-ui-pki-');
    const ca = makeCa(pki, 'Plant CA');
    const soon = makeCert(pki, { ca, cn: 'localhost', days: 20 });
    const up = (f: Parameters<typeof certificateBody>[0]) => uploadCertificate(admin, certificateBody(f).body!);
    assert.equal((await up({ name: 'plant-ca', cert: ca.certPem, key: '', ca: '', replace: false })).kind, 'ok');
    const added = await up({ name: 'broker', cert: soon.certPem, key: soon.keyPem, ca: 'plant-ca', replace: false });
    assert.equal(added.kind, 'ok', JSON.stringify(added));
    if (added.kind !== 'ok') return;
    assert.ok(!JSON.stringify(added.value).includes('PRIVATE KEY'));
    const op = await uploadCertificate(await apiAs(h, 'operator'), { name: 'x', cert: ca.certPem });
    assert.equal(op.kind === 'error' && op.status, 403);
    const bad = await uploadCertificate(admin, { name: 'junk', cert: '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n' });
    assert.equal(bad.kind, 'invalid');
    if (bad.kind === 'invalid') assert.ok(bad.problems.some((p) => p.field === 'cert'), JSON.stringify(bad.problems));

    let certs = (await loadBroker(admin)).certificates;
    assert.deepEqual(certs.map((c) => c.name), ['broker', 'plant-ca']);
    const broker = certs.find((c) => c.name === 'broker')!;
    assert.equal(expiryTone(broker), 'warn');
    assert.match(expiryText(broker), /^expires in (19|20) days$/);
    assert.equal(expiryTone(certs.find((c) => c.name === 'plant-ca')!), '');
    assert.deepEqual(certificateChoices(certs), { withKey: ['broker'], cas: ['plant-ca'] });

    const listener = listenerFromForm({ ...listenerForm(), name: 'tls', port: '18883', address: '127.0.0.1', tls: true, certificate: 'broker', ca: 'plant-ca' }).listener!;
    const draft = putListener(draftOf((await loadBroker(admin)).view.config), listener, null);
    const preview = await previewConfig(admin, draft);
    assert.equal(preview.kind, 'ok');
    if (preview.kind !== 'ok') return;
    assert.match(preview.value.diff, /^\+certfile \/srv\/mcm\/tls\/broker\.crt$/m);
    assert.equal((await applyConfig(admin, draft, preview.value)).kind, 'ok');
    certs = (await loadBroker(admin)).certificates;
    assert.deepEqual(certs.find((c) => c.name === 'broker')?.uses, ['listener tls']);
    const inUse = await removeCertificate(admin, 'broker');
    assert.equal(inUse.kind, 'error');
    if (inUse.kind === 'error') assert.equal(inUse.status, 409);

    h.clock.advance(25 * 86_400);
    // The session has expired too: sign in again.
    const login = await h.login(ROLE_USERS.admin, TEST_PASSWORD);
    const later = createApiClient({ fetch, origin: h.baseUrl, token: () => login.body.token as string });
    const expired = (await loadBroker(later)).certificates.find((c) => c.name === 'broker')!;
    assert.equal(expiryTone(expired), 'error');
    assert.match(expiryText(expired), /^expired/);
    const unused = await previewConfig(later, removeListener(draft, 'tls'));
    assert.equal(unused.kind, 'ok');
    if (unused.kind !== 'ok') return;
    assert.equal((await applyConfig(later, removeListener(draft, 'tls'), unused.value)).kind, 'ok');
    assert.equal((await removeCertificate(later, 'broker')).kind, 'ok');
    assert.deepEqual((await loadBroker(later)).certificates.map((c) => c.name), ['plant-ca']);
  });
});
