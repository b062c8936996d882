/**
 * The broker-configuration half of an import (core/import/plan-broker-conf.ts): problems on the
 * conf's lines, the commands for one batch, and the differences in words.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CertificateFacts } from '../../core/broker-config/certificates.ts';
import { decideBatch } from '../../core/handle-batch.ts';
import { parseBrokerConf } from '../../core/import/parse-broker-conf.ts';
import { brokerConfCommands, brokerConfDifferences, brokerConfProblems, type BrokerConfInput } from '../../core/import/plan-broker-conf.ts';
import { fold, type Recorded } from '../../core/evolve.ts';
import { initialState, type BrokerConfig } from '../../core/state.ts';

const CTX = { reservedPorts: [1883], version: '2.0' } as const;

const facts = (name: string, o: Partial<CertificateFacts> = {}): CertificateFacts => ({
  name, fingerprint: Array.from({ length: 32 }, () => 'AB').join(':'), subject: `CN=${name}`, issuer: 'CN=Test CA',
  notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', subjectAltName: '', isCa: false, hasKey: true, ca: null, ...o,
});

const inputOf = (text: string, certificates: CertificateFacts[] = [], refs: [string, string][] = []): BrokerConfInput =>
  ({ parsed: parseBrokerConf(text), certificates, passwordRefs: new Map(refs) });

const TLS_CONF = [
  'listener 8883', 'certfile /c.crt', 'keyfile /c.key', 'cafile /ca.crt', 'require_certificate true',
  'connection edge', 'address remote:8883', 'remote_username u', 'remote_password p', 'topic a/# out', 'memory_limit 0',
].join('\n');

/** The state after the batch, folded as the store would fold it. */
const applied = (state: BrokerConfig, input: BrokerConfInput): BrokerConfig => {
  const events = decideBatch(brokerConfCommands(input, state), state, { broker: CTX });
  return fold(events.map((e, i) => ({ ...e, seq: state.seq + i + 1, at: '2026-02-01T00:00:00.000Z' }) as Recorded), state);
};

describe('given an imported configuration the catalog refuses', () => {
  it('names the conf line of every problem: MCM\'s own port, a duplicate port, a client id with a space, a missing certificate', () => {
    const input = inputOf(['listener 1883', 'listener 1884', 'listener 1884 ::1', 'connection b', 'address h', 'remote_clientid a b', 'topic x/#', 'listener 8883', 'certfile /c', 'keyfile /k'].join('\n'));
    const problems = brokerConfProblems(input, initialState(), CTX);
    assert.deepEqual(problems.map((p) => p.line), [1, 8, 0, 4]);
    assert.match(problems[0]?.message ?? '', /1883 is MCM's own listener/);
    assert.match(problems[1]?.message ?? '', /no certificate named "tls-8883-cert"/);
    assert.match(problems[2]?.message ?? '', /two listeners on port 1884/);
    assert.match(problems[3]?.message ?? '', /remoteClientId must be a client id without spaces/);
  });

  it('is valid once the certificates it names are given, and a CA must be a CA', () => {
    const input = inputOf(TLS_CONF, [facts('tls-8883-cert'), facts('tls-8883-ca', { isCa: true, hasKey: false }), facts('edge-ca', { isCa: true, hasKey: false })], [['edge', 'bridge-pw.0123456789abcdef']]);
    assert.deepEqual(brokerConfProblems(input, initialState(), CTX), []);
    const notCa = inputOf(TLS_CONF, [facts('tls-8883-cert'), facts('tls-8883-ca', { hasKey: false }), facts('edge-ca', { isCa: true, hasKey: false })], [['edge', 'r']]);
    assert.deepEqual(brokerConfProblems(notCa, initialState(), CTX).map((p) => p.line), [1]);
  });
});

describe('given a valid imported configuration', () => {
  const certs = [facts('tls-8883-cert'), facts('tls-8883-ca', { isCa: true, hasKey: false }), facts('edge-ca', { isCa: true, hasKey: false })];
  const input = inputOf(TLS_CONF, certs, [['edge', 'bridge-pw.0123456789abcdef']]);

  it('adds the CAs first, then the certificates, then sets the configuration with the password reference', () => {
    const commands = brokerConfCommands(input, initialState());
    assert.deepEqual(commands.map((c) => [c.type, (c.data as { name?: string }).name]), [
      ['AddCertificate', 'tls-8883-ca'], ['AddCertificate', 'edge-ca'], ['AddCertificate', 'tls-8883-cert'], ['SetBrokerConfig', undefined],
    ]);
    const set = commands.at(-1);
    assert.equal(set?.type, 'SetBrokerConfig');
    const config = (set?.data as { config: { bridges: { remotePasswordRef: string }[]; passthrough: string[] } }).config;
    assert.equal(config.bridges[0]?.remotePasswordRef, 'bridge-pw.0123456789abcdef');
    assert.deepEqual(config.passthrough, ['memory_limit 0']);
  });

  it('lists the differences with their lines, and none once applied (a second import changes nothing)', () => {
    const diff = brokerConfDifferences(input, initialState()).map((d) => [d.line, d.text]);
    assert.deepEqual(diff.slice(0, 4), [
      [undefined, '+ certificate tls-8883-cert: CN=tls-8883-cert until 2027-01-01'],
      [undefined, '+ certificate tls-8883-ca: CA CN=tls-8883-ca until 2027-01-01'],
      [undefined, '+ certificate edge-ca: CA CN=edge-ca until 2027-01-01'],
      [1, '+ listener tls-8883: port 8883 mqtt on every interface, TLS tls-8883-cert (from tlsv1.2, CA tls-8883-ca, client certificates required)'],
    ]);
    assert.ok(diff.some(([line, text]) => line === 11 && text === '+ passthrough memory_limit 0'));
    const after = applied(initialState(), input);
    assert.equal(after.brokerConfig?.listeners[0]?.name, 'tls-8883');
    assert.deepEqual(brokerConfDifferences(input, after), []);
    assert.deepEqual(decideBatch(brokerConfCommands(input, after), after, { broker: CTX }), [], 'the same certificates are replaced by themselves: no event');
  });

  it('says what goes when the conf no longer has it', () => {
    const after = applied(initialState(), input);
    const smaller = inputOf('listener 1884\npersistence true\n');
    assert.deepEqual(brokerConfDifferences(smaller, after).map((d) => [d.line, d.text]), [
      [1, '+ listener mqtt-1884: port 1884 mqtt on every interface'],
      [undefined, '- listener tls-8883: port 8883 mqtt on every interface, TLS tls-8883-cert (from tlsv1.2, CA tls-8883-ca, client certificates required)'],
      [2, '~ option persistence: false → true'],
      [undefined, '- bridge edge → remote:8883 (1 topic, user u with password)'],
      [undefined, '- passthrough memory_limit 0'],
    ]);
  });
});
