/**
 * The broker configuration as commands and events (issue "Broker configuration as events"):
 * every value is checked by the catalog before anything is appended; references to certificates
 * must resolve; what a restart needs is known from the change.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decide } from '../../core/decide.ts';
import type { DomainEvent } from '../../core/events.ts';
import { ERROR_CODES } from '../../core/errors.ts';
import { configChanges, needsRestart } from '../../core/broker-config/changes.ts';
import { emptyBrokerConfig, type BrokerConfigModel, type Listener } from '../../core/broker-config/model.ts';
import { catalogFor } from '../../core/broker-config/catalog.ts';
import { confNeedsRestart } from '../../projections/conf-restart-key.ts';
import { given } from '../helpers/decider-spec.ts';

const FP = Array.from({ length: 32 }, () => 'AB').join(':');
const cert = (name: string, o: { isCa?: boolean; hasKey?: boolean; ca?: string | null } = {}): DomainEvent => ({
  type: 'CertificateAdded',
  data: { name, fingerprint: FP, subject: `CN=${name}`, issuer: 'CN=ca', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', subjectAltName: '', isCa: o.isCa ?? false, hasKey: o.hasKey ?? true, ca: o.ca ?? null },
});
const PKI: DomainEvent[] = [cert('ca', { isCa: true, hasKey: false }), cert('server', { ca: 'ca' })];

const listener = (o: Partial<Listener> = {}): Listener => ({ name: 'tls', port: 8883, protocol: 'mqtt', address: null, bindInterface: null, tls: null, maxConnections: null, ...o });
const changed = (config: Partial<BrokerConfigModel>): DomainEvent => ({ type: 'BrokerConfigChanged', data: { config: { ...emptyBrokerConfig(), ...config } } });
const problems = (e: { details: readonly Record<string, unknown>[] }): string[] => e.details.map((d) => String(d.field));

describe('decide SetBrokerListener / SetBrokerConfig', () => {
  it('given a server certificate with its CA, when a TLS listener names them, then the whole configuration is recorded with defaults filled in', () => {
    given(PKI).when({ type: 'SetBrokerListener', data: { listener: { name: 'tls', port: 8883, tls: { certificate: 'server', ca: 'ca', requireCertificate: true, useIdentityAsUsername: true } } } }).then([
      changed({ listeners: [listener({ tls: { certificate: 'server', ca: 'ca', minVersion: 'tlsv1.2', requireCertificate: true, useIdentityAsUsername: true } })] }),
    ]);
  });

  it('refuses unknown certificates, certificates without a key, a non-CA as CA, and mTLS options that cannot work — all problems at once', () => {
    const e = given([...PKI, cert('nokey', { hasKey: false })]).when({ type: 'SetBrokerConfig', data: { config: { listeners: [
      listener({ name: 'a', port: 1, tls: { certificate: 'missing', ca: null, minVersion: 'tlsv1.2', requireCertificate: false, useIdentityAsUsername: false } }),
      listener({ name: 'b', port: 2, tls: { certificate: 'nokey', ca: 'server', minVersion: 'tlsv1.2', requireCertificate: false, useIdentityAsUsername: false } }),
      listener({ name: 'c', port: 3, tls: { certificate: 'server', ca: null, minVersion: 'tlsv1.2', requireCertificate: true, useIdentityAsUsername: false } }),
      listener({ name: 'd', port: 4, tls: { certificate: 'server', ca: 'ca', minVersion: 'tlsv1.2', requireCertificate: false, useIdentityAsUsername: true } }),
    ] } } }).thenThrows(ERROR_CODES.BROKER_CONFIG_INVALID);
    assert.deepEqual(problems(e), [
      'listeners[0].tls.certificate', 'listeners[1].tls.certificate', 'listeners[1].tls.ca', 'listeners[2].tls.ca', 'listeners[3].tls.useIdentityAsUsername',
    ]);
  });

  it('refuses a websockets listener on an IP address: 2.0.11 ignores it and binds every interface (eclipse/mosquitto#3045)', () => {
    const e = given().when({ type: 'SetBrokerListener', data: { listener: { name: 'ws', port: 9001, protocol: 'websockets', address: '127.0.0.1' } } }).thenThrows(ERROR_CODES.BROKER_CONFIG_INVALID);
    assert.match(e.message, /binds every interface.*3045/);
    given().when({ type: 'SetBrokerListener', data: { listener: { name: 'ws', port: 9001, protocol: 'websockets', bindInterface: 'lo' } } })
      .then([changed({ listeners: [listener({ name: 'ws', port: 9001, protocol: 'websockets', bindInterface: 'lo' })] })]);
  });

  it("refuses MCM's own ports (from the context) and two listeners on one port or with one name", () => {
    const state = given().state;
    assert.throws(() => decide({ type: 'SetBrokerListener', data: { listener: { name: 'x', port: 1883 } } }, state, { broker: { reservedPorts: [1883], version: '2.0' } }),
      (e: Error & { code?: string }) => e.code === ERROR_CODES.BROKER_CONFIG_INVALID && /MCM's own listener/.test(e.message));
    const e = given().when({ type: 'SetBrokerConfig', data: { config: { listeners: [listener({ name: 'a' }), listener({ name: 'a', port: 8884 }), listener({ name: 'b' })] } } }).thenThrows(ERROR_CODES.BROKER_CONFIG_INVALID);
    assert.equal(e.details.length, 2);
  });

  it('refuses values mosquitto.conf would split or misread, and names that are not handles', () => {
    const e = given().when({ type: 'SetBrokerConfig', data: { config: { listeners: [
      { name: 'Bad Name', port: 0 }, { name: 'ok', port: 1884, address: '127.0.0.1 extra' }, { name: 'if', port: 1885, bindInterface: 'eth0 #x' },
    ] } } }).thenThrows(ERROR_CODES.BROKER_CONFIG_INVALID);
    assert.deepEqual(problems(e), ['listeners[0].name', 'listeners[0].port', 'listeners[1].address', 'listeners[2].bindInterface']);
  });
});

describe('decide: global options from the catalog', () => {
  it('records typed values in name order; log_type is a set of the allowed types', () => {
    given().when({ type: 'SetBrokerConfig', data: { config: { options: { persistence: false, max_inflight_messages: 40, log_type: 'websockets, error' } } } })
      .then([changed({ options: { log_type: ['error', 'websockets'], max_inflight_messages: 40, persistence: false } })]);
  });

  it('refuses an unmanaged directive (with where it belongs), one MCM sets itself, a wrong type and a value out of range', () => {
    const e = given().when({ type: 'SetBrokerConfig', data: { config: { options: { mount_point: 'x', password_file: '/x', persistence: 'yes', max_keepalive: 5, log_type: ['subscribe'], sys_interval: 0 } } } })
      .thenThrows(ERROR_CODES.BROKER_CONFIG_INVALID);
    const byField = new Map(e.details.map((d) => [String(d.field), String(d.message)]));
    assert.match(byField.get('options.mount_point') ?? '', /passthrough/);
    assert.match(byField.get('options.password_file') ?? '', /MCM sets it itself/);
    assert.match(byField.get('options.persistence') ?? '', /true or false/);
    assert.match(byField.get('options.max_keepalive') ?? '', /from 10 to 65535/);
    assert.ok(byField.has('options.log_type'), 'subscribe lines carry client-chosen topics: not allowed');
    assert.ok(byField.has('options.sys_interval'), 'MCM reads $SYS: 0 is refused');
  });

  it('the catalog lists each directive with its type, range and reload/restart per version', () => {
    for (const v of ['2.0', '2.1'] as const) {
      const byName = new Map(catalogFor(v).map((d) => [d.name, d]));
      assert.equal(byName.get('max_inflight_messages')?.apply, 'restart', 'parsed but not copied back by a 2.0.11 reload (reference §3.2)');
      assert.equal(byName.get('sys_interval')?.apply, 'reload');
      assert.equal(byName.get('listener')?.apply, 'restart');
    }
    assert.equal(catalogFor('2.1').find((d) => d.name === 'max_packet_size')?.defaults['2.1'], 2_000_000, 'reference §8');
  });
});

describe('decide: bridges and passthrough', () => {
  const bridge = { name: 'cloud', addresses: [{ host: 'cloud.example.com', port: 8883 }], remoteUsername: 'edge', remotePasswordRef: 'bridge-pw.0011223344556677', topics: [{ pattern: 'site/#', direction: 'out', qos: 1 }] };

  it('records a bridge with defaults (cleansession false, keepalive 60, empty prefixes) and only a password reference', () => {
    const [e] = given().when({ type: 'SetBrokerBridge', data: { bridge } }).then([changed({ bridges: [{
      name: 'cloud', addresses: [{ host: 'cloud.example.com', port: 8883 }], remoteUsername: 'edge', remotePasswordRef: 'bridge-pw.0011223344556677',
      remoteClientId: null, tls: null, topics: [{ pattern: 'site/#', direction: 'out', qos: 1, localPrefix: '', remotePrefix: '' }], cleansession: false, keepalive: 60,
    }] })]);
    assert.ok(e);
  });

  it('refuses topic lines the broker would misread or that reach into $mcm, and a password without a username', () => {
    const e = given().when({ type: 'SetBrokerBridge', data: { bridge: { ...bridge, remoteUsername: null, topics: [
      { pattern: '', direction: 'in' }, { pattern: '$mcm/#', direction: 'out' }, { pattern: 'a/#', direction: 'sideways' }, { pattern: 'b/#', localPrefix: 'x/+/' },
    ] } } }).thenThrows(ERROR_CODES.BROKER_CONFIG_INVALID);
    assert.deepEqual(problems(e), ['bridges[0].remotePasswordRef', 'bridges[0].topics[0].pattern', 'bridges[0].topics[1].pattern', 'bridges[0].topics[2].direction', 'bridges[0].topics[3].localPrefix']);
  });

  it('keeps passthrough lines verbatim but refuses directives MCM manages there', () => {
    given().when({ type: 'SetBrokerConfig', data: { config: { passthrough: ['queue_qos0_messages true', '# a comment'] } } })
      .then([changed({ passthrough: ['queue_qos0_messages true', '# a comment'] })]);
    const e = given().when({ type: 'SetBrokerConfig', data: { config: { passthrough: ['listener 1884', 'acl_file /etc/x', 'two\nlines'] } } }).thenThrows(ERROR_CODES.BROKER_CONFIG_INVALID);
    assert.equal(e.details.length, 3);
  });

  it('an unchanged configuration appends nothing; removing what is not there is 404', () => {
    const cfg = changed({ options: { persistence: true } });
    given([cfg]).when({ type: 'SetBrokerConfig', data: { config: { options: { persistence: true } } } }).then([]);
    given().when({ type: 'RemoveBrokerListener', data: { name: 'nope' } }).thenThrows(ERROR_CODES.LISTENER_NOT_FOUND);
    given().when({ type: 'RemoveBrokerBridge', data: { name: 'nope' } }).thenThrows(ERROR_CODES.BRIDGE_NOT_FOUND);
  });
});

describe('decide: certificates', () => {
  it('refuses removing a certificate a listener uses, or a CA that signed a stored certificate', () => {
    const inUse = given([...PKI, changed({ listeners: [listener({ tls: { certificate: 'server', ca: null, minVersion: 'tlsv1.2', requireCertificate: false, useIdentityAsUsername: false } })] })]);
    assert.match(inUse.when({ type: 'RemoveCertificate', data: { name: 'server' } }).thenThrows(ERROR_CODES.CERTIFICATE_IN_USE).message, /listener tls/);
    given(PKI).when({ type: 'RemoveCertificate', data: { name: 'ca' } }).thenThrows(ERROR_CODES.CERTIFICATE_IN_USE);
    given(PKI).when({ type: 'RemoveCertificate', data: { name: 'constructor' } }).thenThrows(ERROR_CODES.CERTIFICATE_NOT_FOUND);
  });

  it('an existing name needs replace; a keyless replacement of a listener certificate is refused', () => {
    const facts = { name: 'server', fingerprint: FP, subject: 'CN=server', issuer: 'CN=ca', notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2028-01-01T00:00:00.000Z', subjectAltName: '', isCa: false, hasKey: true, ca: 'ca' };
    given(PKI).when({ type: 'AddCertificate', data: facts }).thenThrows(ERROR_CODES.CERTIFICATE_EXISTS);
    given(PKI).when({ type: 'AddCertificate', data: { ...facts, replace: true } }).then([{ type: 'CertificateAdded', data: facts }]);
    const used = [...PKI, changed({ listeners: [listener({ tls: { certificate: 'server', ca: null, minVersion: 'tlsv1.2', requireCertificate: false, useIdentityAsUsername: false } })] })];
    given(used).when({ type: 'AddCertificate', data: { ...facts, hasKey: false, replace: true } }).thenThrows(ERROR_CODES.CERTIFICATE_INVALID);
    given(PKI).when({ type: 'AddCertificate', data: { ...facts, name: 'constructor' } }).then([{ type: 'CertificateAdded', data: { ...facts, name: 'constructor' } }]);
  });
});

describe('what a change needs: reload or restart (reference §3.2)', () => {
  it('sys_interval and persistence reload; listeners, bridges, max_inflight_messages and passthrough restart', () => {
    const base = emptyBrokerConfig();
    assert.equal(needsRestart(configChanges(base, { ...base, options: { sys_interval: 30, persistence: false } })), false);
    assert.equal(needsRestart(configChanges(base, { ...base, options: { max_inflight_messages: 10 } })), true);
    assert.equal(needsRestart(configChanges(base, { ...base, listeners: [listener()] })), true);
    assert.equal(needsRestart(configChanges(base, { ...base, passthrough: ['queue_qos0_messages true'] })), true);
    assert.deepEqual(configChanges(base, { ...base, listeners: [listener()] }), [{ what: 'listener tls', kind: 'added', apply: 'restart' }]);
  });

  it('the rendered files agree: only reloadable lines differ → no restart', () => {
    const a = 'allow_anonymous false\nlistener 1883 127.0.0.1\nsys_interval 10\n';
    assert.equal(confNeedsRestart(a, a.replace('allow_anonymous false', 'allow_anonymous true').replace('sys_interval 10', 'sys_interval 30')), false);
    assert.equal(confNeedsRestart(a, `${a}listener 8883\n`), true);
  });
});
