/**
 * The runner's view of the broker files: render, validate with the broker's grammar (including
 * the incremental ACL check the runner uses at scale), and the generation-blind comparison
 * (DESIGN §6).
 */
import { emptyBrokerConfig } from '../../core/broker-config/model.ts';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { aclGeneration, confAllowsAnonymous, contentKey, createBrokerFiles, sameContent } from '../../adapters/apply/broker-files.ts';
import { fold } from '../../core/evolve.ts';
import type { DomainEvent } from '../../core/events.ts';
import type { BrokerConfig } from '../../core/state.ts';

const HASH = '$7$101$XKm0/ruYS/eOrtlr$inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==';
const own = () => ({ mode: 0o600 });

const files = (withConf = false) => createBrokerFiles({
  passwordFile: { name: 'password_file', path: '/d/passwd', ownership: own },
  aclFile: { name: 'acl_file', path: '/d/acl', ownership: own },
  conf: withConf
    ? { spec: { name: 'mosquitto_conf', path: '/d/mosquitto.conf', ownership: own }, options: { passwordFile: '/d/passwd', aclFile: '/d/acl', host: '127.0.0.1', port: 1883, persistenceDir: '/d/p' } }
    : null,
  serviceAccount: { username: 'mcm-service', passwordHash: HASH },
});

const state = (events: DomainEvent[]): BrokerConfig => fold(events.map((e, i) => ({ ...e, seq: i + 1, at: '2026-01-01T00:00:00.000Z' })));

const users = (n: number): DomainEvent[] => Array.from({ length: n }, (_, i) => [
  { type: 'MqttUserCreated', data: { username: `u${i}`, passwordHash: HASH, description: '', disabled: false } } as DomainEvent,
  { type: 'AclRuleAdded', data: { id: i + 1, principal: `user:u${i}`, topic: `devices/u${i}/#`, access: 'readwrite', description: '' } } as DomainEvent,
]).flat();

describe('broker files', () => {
  it('renders the service account into both files and validates clean', () => {
    const f = files();
    const s = state(users(3));
    const r = f.render(s, s.generation);
    assert.match(r.get('password_file') ?? '', /^mcm-service:\$7\$/m);
    assert.match(r.get('acl_file') ?? '', new RegExp(`^topic write \\$mcm/probe/${s.generation}$`, 'm'));
    assert.deepEqual(f.validate(r), []);
    assert.equal(r.has('mosquitto_conf'), false, 'no mosquitto.conf outside supervised mode');
  });

  it('catches a bad ACL line even after a valid render was accepted (incremental check) [ref §2.1]', () => {
    const f = files();
    const good = state(users(50));
    assert.deepEqual(f.validate(f.render(good, good.generation)), []);
    const bad = state([...users(50), { type: 'AclRuleAdded', data: { id: 999, principal: 'user:u7', topic: 'a/#/b', access: 'read', description: '' } }]);
    const rendered = f.render(bad, bad.generation);
    const problems = f.validate(rendered);
    assert.equal(problems.length, 1);
    const lineNo = (rendered.get('acl_file') ?? '').split('\n').indexOf('topic read a/#/b') + 1;
    assert.match(problems[0] ?? '', new RegExp(`^acl_file line ${lineNo}: invalid ACL topic "a/#/b"`), 'reported with its real line number');
  });

  it('catches a duplicate password-file user even when the rest passed before', () => {
    const f = files();
    const s = state(users(3));
    const r = f.render(s, s.generation);
    assert.deepEqual(f.validate(r), []);
    r.set('password_file', `${r.get('password_file')}u1:${HASH}\n`);
    assert.match(f.validate(r).join('\n'), /duplicate username "u1"/);
  });

  it('compares renders without the generation: a disabled user moves the generation, not the content [DESIGN §6]', () => {
    const f = files();
    const a = state(users(2));
    const b = state([...users(2), { type: 'MqttUserCreated', data: { username: 'ghost', passwordHash: HASH, description: '', disabled: true } }]);
    const ra = f.render(a, a.generation);
    const rb = f.render(b, b.generation);
    assert.notEqual(ra.get('acl_file'), rb.get('acl_file'), 'the header and probe line differ');
    assert.ok(sameContent('acl_file', ra.get('acl_file'), rb.get('acl_file')));
    assert.equal(contentKey('password_file', ra.get('password_file') ?? ''), rb.get('password_file'));
    assert.equal(aclGeneration(rb.get('acl_file')), b.generation);
  });

  it('supervised: mosquitto.conf follows allow_anonymous from the state', () => {
    const f = files(true);
    const s = state([{ type: 'AnonymousAccessChanged', data: { allowed: true } }]);
    assert.equal(confAllowsAnonymous(f.render(s, s.generation).get('mosquitto_conf')), true);
    assert.equal(confAllowsAnonymous(f.renderConf(false, emptyBrokerConfig())), false);
  });
});
