/**
 * password_file renderer and checker (DESIGN §6, reference §1). The golden file pins the exact
 * bytes; the checker must reject every line kind the broker would drop or misread.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { fold, type Recorded } from '../../core/evolve.ts';
import { put } from '../../core/evolve/records.ts';
import { usernameProblem } from '../../core/names.ts';
import { initialState, type BrokerConfig, type MqttUser } from '../../core/state.ts';
import { renderPasswordFile } from '../../projections/password-file.ts';
import { checkPasswordFile, strictBase64Length } from '../../projections/password-file-check.ts';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');
const loadEvents = (path: string): Recorded[] =>
  read(path).split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Recorded);

/** Fixed service account of the golden files; its password is `mcm-service-fixed-pw`. */
const SERVICE = {
  username: 'mcm-service',
  passwordHash: '$7$101$bWNtLXNlcnZpY2Ut$HWjzsg0muO5jhjVYB2t/0uX9N7fjQeCiQDDeFmIGgoKJae/3I6E7mIZ7JBnDMTYQUd97ykmpb5s79R4b8Jp//Q==',
};
/** Plaintexts behind the fixed hashes of fixtures/events/basic.jsonl (test data only). */
const BASIC_PASSWORDS: Readonly<Record<string, string>> = {
  'mcm-service': 'mcm-service-fixed-pw',
  alice: 's3cret-Pa55', // after MqttUserPasswordChanged; it was 'alice-old-password'
  'bob smith': 'pässwörd with spaces',
  carol: 'carol-pw', // disabled
  'sensor-01': 'sensor-01-pw',
  erin: 'erin-pw', // deleted
  dave: 'dave-pw-1000', // 1000 iterations
};
const HASH = '$7$101$XKm0/ruYS/eOrtlr$inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==';

const user = (username: string, passwordHash = HASH, disabled = false): MqttUser => ({
  username, passwordHash, description: '', disabled, roles: [], createdAt: '', updatedAt: '',
});
const stateWith = (users: MqttUser[]): BrokerConfig => {
  const s = initialState();
  for (const u of users) put(s.users, u.username, u); // own property even for "__proto__"
  return s;
};

describe('renderPasswordFile', () => {
  it('renders fixtures/events/basic.jsonl byte for byte as fixtures/expected/basic.password_file [DESIGN §6]', () => {
    const state = fold(loadEvents('fixtures/events/basic.jsonl'));
    assert.equal(renderPasswordFile(state, { serviceAccount: SERVICE }), read('fixtures/expected/basic.password_file'));
  });

  it('golden hashes are PBKDF2-SHA512 of the recorded plaintexts (so broker tests can log in) [ref §1.2]', () => {
    for (const line of read('fixtures/expected/basic.password_file').trimEnd().split('\n')) {
      const name = line.slice(0, line.indexOf(':'));
      const [, , iterations = '', salt = '', hash = ''] = line.slice(name.length + 1).split('$');
      const password = BASIC_PASSWORDS[name];
      assert.ok(password !== undefined, `plaintext recorded for ${name}`);
      const got = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(salt, 'base64'), Number(iterations), 64, 'sha512');
      assert.equal(got.toString('base64'), hash, name);
    }
  });

  it('writes the same line mosquitto_passwd 2.0.11 wrote for the same hash [ref §1.5]', () => {
    const vectors = read('fixtures/mosquitto-passwd-vectors.txt').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.ok(vectors.length >= 4);
    for (const v of vectors) {
      const [name = '', , line = ''] = v.split('\t');
      const hash = line.slice(line.indexOf(':') + 1);
      const text = renderPasswordFile(stateWith([user(name, hash)]), { serviceAccount: SERVICE });
      assert.ok(text.split('\n').includes(line), `line for ${name}`);
    }
  });

  it('leaves disabled users out: the broker refuses a username it has no line for [ref §1.1]', () => {
    const text = renderPasswordFile(stateWith([user('on'), user('off', HASH, true)]), { serviceAccount: SERVICE });
    assert.deepEqual(text.split('\n').map((l) => l.split(':')[0]), ['mcm-service', 'on', '']);
  });

  it('always contains the service account, and it wins over a user with its name (no duplicate) [ref §1.1 item 7]', () => {
    assert.equal(renderPasswordFile(initialState(), { serviceAccount: SERVICE }), `mcm-service:${SERVICE.passwordHash}\n`);
    const text = renderPasswordFile(stateWith([user('mcm-service', HASH)]), { serviceAccount: SERVICE });
    assert.equal(text, `mcm-service:${SERVICE.passwordHash}\n`);
  });

  it('sorts by username in code-unit order, whatever the insertion order', () => {
    const names = ['zed', 'Zed', 'é', 'alice', 'a b', '_x', '10', '9'];
    const text = renderPasswordFile(stateWith(names.map((n) => user(n))), { serviceAccount: SERVICE });
    const got = text.trimEnd().split('\n').map((l) => l.slice(0, l.indexOf(':')));
    assert.deepEqual(got, ['10', '9', 'Zed', '_x', 'a b', 'alice', 'mcm-service', 'zed', 'é']);
  });

  it('never throws, even for a state missing its users map (total renderer)', () => {
    const broken = { ...initialState(), users: undefined } as unknown as BrokerConfig;
    assert.equal(renderPasswordFile(broken, { serviceAccount: SERVICE }), `mcm-service:${SERVICE.passwordHash}\n`);
  });

  it('for random valid states: deterministic, LF only, final newline, no comment/blank line, passes its own check [DESIGN §6]', () => {
    const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
    const hashArb = fc.tuple(fc.integer({ min: 1, max: 1_000_000 }), fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.uint8Array({ minLength: 64, maxLength: 64 }))
      .map(([i, s, h]) => `$7$${i}$${b64(s)}$${b64(h)}`);
    const nameArb = fc.oneof(fc.constantFrom('__proto__', 'constructor'), fc.string({ unit: 'binary', minLength: 1, maxLength: 12 })).filter((n) => usernameProblem(n) === null);
    const usersArb = fc.uniqueArray(fc.record({ name: nameArb, hash: hashArb, disabled: fc.boolean() }), { selector: (u) => u.name, maxLength: 25 });
    fc.assert(fc.property(usersArb, (users) => {
      const list = users.map((u) => user(u.name, u.hash, u.disabled));
      const text = renderPasswordFile(stateWith(list), { serviceAccount: SERVICE });
      const again = renderPasswordFile(stateWith([...list].reverse()), { serviceAccount: SERVICE });
      assert.equal(again, text);
      assert.ok(text.endsWith('\n'));
      assert.ok(!text.includes('\r') && !text.startsWith('\uFEFF'));
      assert.deepEqual(checkPasswordFile(text), []);
      const expected = new Set(users.filter((u) => !u.disabled).map((u) => u.name));
      expected.add(SERVICE.username);
      assert.equal(text.split('\n').length - 1, expected.size);
    }), { numRuns: 200 });
  });
});

describe('checkPasswordFile', () => {
  const good = `alice:${HASH}\n`;
  const salt16 = 'XKm0/ruYS/eOrtlr';
  const hash88 = 'inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==';

  it('accepts the lines mosquitto_passwd writes, $6$ and $7$, any iteration count >= 1 [ref §1.5]', () => {
    const vectors = read('fixtures/mosquitto-passwd-vectors.txt').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const text = vectors.map((v) => `${v.split('\t')[2]}\n`).join('');
    assert.deepEqual(checkPasswordFile(text), []);
    assert.deepEqual(checkPasswordFile(''), []);
    assert.deepEqual(checkPasswordFile(`a:$7$1$${salt16}$${hash88}`), [], 'no final newline is still read [ref §1.1 item 8]');
  });

  it('accepts every form an import keeps: $7$ with any salt length, argon2id (a 2.0 broker drops them, locking out only that user) [ref §8]', () => {
    const salt64 = 'h0tqVxBwkB9rKAXukTtffzdbBQtNy1q5FBTDwSW4hucfjpqunBbxW10NVnRk7Cfh0lQndnOv2+k4wJavgz1JNw==';
    const text = `a:$7$1000$${salt64}$${hash88}\nb:$7$101$XKm0/ruYS/eO$${hash88}\nc:$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$NOi0h9ZWrjoAx4LhMrPBIuHHIOUv65/kWklX44UVOM4\n`;
    assert.deepEqual(checkPasswordFile(text), []);
  });

  // Each malformed kind, placed on line 2 after a good line, must be reported against line 2.
  const cases: [string, string, RegExp][] = [
    ['a comment line [ref §1.4]', `# note\n`, /comment/],
    ['a blank line [ref §1.4]', `\n`, /blank/],
    ['a whitespace-only line [ref §1.4]', `   \n`, /blank/],
    ['a line with no ":" [ref §1.1 item 2]', `bob\n`, /no ":"/],
    ['a line starting with ":" (empty username) [ref §1.1 item 3]', `:${HASH}\n`, /empty username/],
    ['a username with trailing whitespace [ref §1.1 item 3]', `bob :${HASH}\n`, /whitespace/],
    ['a username with leading whitespace [ref §1.1 item 3]', ` bob:${HASH}\n`, /whitespace/],
    ['a username with a control character [ref §1.3]', `b\u0001ob:${HASH}\n`, /control/],
    ['a username longer than 65535 bytes [ref §1.1 item 5]', `${'x'.repeat(65536)}:${HASH}\n`, /65535/],
    ['a plain-text password (hash type not $6$/$7$) [ref §1.1]', `bob:secret\n`, /hash type|start with/],
    ['hash type $5$ [ref §1.1]', `bob:$5$${salt16}$${hash88}\n`, /hash type/],
    ['an empty password field [ref §1.1]', `bob:\n`, /empty password/],
    ['iterations 0 [ref §1.1]', `bob:$7$0$${salt16}$${hash88}\n`, /iterations/],
    ['non-decimal iterations [ref §1.2]', `bob:$7$x1$${salt16}$${hash88}\n`, /iterations/],
    ['a salt that is not padded base64 (11 characters) [ref §1.2]', `bob:$7$101$XKm0/ruYS/e$${hash88}\n`, /salt/],
    ['an unpadded hash [ref §1.2]', `bob:$7$101$${salt16}$${hash88.replace(/=+$/, '')}\n`, /hash does not decode/],
    ['a URL-safe hash [ref §1.2]', `bob:$7$101$${salt16}$_${hash88.slice(1)}\n`, /hash does not decode/],
    ['a URL-safe salt [ref §1.2]', `bob:$7$101$${salt16.replace('/', '_')}$${hash88}\n`, /salt/],
    ['a hash of 63 bytes [ref §1.2]', `bob:$7$101$${salt16}$${hash88.slice(0, 84)}\n`, /hash does not decode/],
    ['a missing hash token [ref §1.2]', `bob:$7$101$${salt16}\n`, /malformed/],
    ['junk after a second ":" [ref §1.1 item 4]', `bob:${HASH}:junk\n`, /second ":"/],
    ['a duplicate username [ref §1.1 item 7]', good, /duplicate username "alice" \(first on line 1\)/],
    ['a CR line ending [ref §1.1 item 4]', `bob:${HASH}\r\n`, /carriage return/],
  ];
  for (const [name, line2, message] of cases) {
    it(`reports ${name} on its line`, () => {
      const problems = checkPasswordFile(good + line2);
      assert.ok(problems.length >= 1, `expected a problem for ${JSON.stringify(line2.slice(0, 40))}`);
      for (const p of problems) {
        assert.equal(p.line, 2);
        assert.match(p.message, /^line 2: /);
      }
      assert.ok(problems.some((p) => message.test(p.message)), `messages: ${problems.map((p) => p.message).join(' | ')}`);
    });
  }

  it('reports a byte order mark on line 1 [ref §1.1 item 9]', () => {
    const problems = checkPasswordFile(`\uFEFF${good}`);
    assert.deepEqual(problems.map((p) => p.line), [1]);
    assert.match(problems[0]?.message ?? '', /byte order mark/);
  });

  it('decodes base64 strictly: padded standard alphabet only, as OpenSSL did [ref §1.2]', () => {
    assert.equal(strictBase64Length(salt16), 12);
    assert.equal(strictBase64Length(hash88), 64);
    assert.equal(strictBase64Length(hash88.slice(0, 86)), null);
    assert.equal(strictBase64Length('ab-_'), null);
    assert.equal(strictBase64Length('a=bc'), null);
    assert.equal(strictBase64Length(''), null);
  });
});
