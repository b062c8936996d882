import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import mqtt from 'mqtt';
import {
  createMosquittoHasher, formatPasswordLine, hashWithSalt, legacy6WithSalt, parseHashField,
} from '../../adapters/mosquitto/password-hash.ts';
import { isDomainError } from '../../core/errors.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { tempDir } from '../helpers/temp-dir.ts';

type Vector = { username: string; password: string; line: string; field: string };

/** fixtures/mosquitto-passwd-vectors.txt: username TAB password TAB exact line; '#' = comment. */
const vectors: Vector[] = readFileSync(new URL('../../fixtures/mosquitto-passwd-vectors.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => {
    const [username = '', password = '', line = ''] = l.split('\t');
    return { username, password, line, field: line.slice(username.length + 1) };
  });

const v7 = vectors.filter((v) => v.field.startsWith('$7$'));
const v6 = vectors.filter((v) => v.field.startsWith('$6$'));

/** Connects once, without retrying; resolves with the CONNACK outcome. */
const tryConnect = (port: number, username: string, password: string): Promise<{ ok: boolean; code?: number }> =>
  new Promise((resolve) => {
    const client = mqtt.connect({ host: '127.0.0.1', port, username, password, reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 4 });
    client.once('connect', () => { client.end(true); resolve({ ok: true }); });
    client.once('error', (err) => { client.end(true); resolve({ ok: false, code: (err as { code?: number }).code }); });
  });

describe('mosquitto password hashes [ref §1.2]', () => {
  it('the fixture holds three $7$ vectors and one legacy $6$ vector', () => {
    assert.equal(v7.length, 3);
    assert.equal(v6.length, 1);
  });

  for (const v of v7) {
    it(`reproduces mosquitto_passwd's $7$ line for "${v.username}" byte for byte [ref §1.5]`, async () => {
      const parsed = parseHashField(v.field);
      assert.ok(parsed && parsed.kind === 7, 'vector parses as $7$');
      const field = await hashWithSalt(v.password, parsed.salt, parsed.iterations);
      assert.equal(formatPasswordLine(v.username, field), v.line);
    });
  }

  for (const v of v6) {
    it(`reproduces mosquitto_passwd -H sha512's legacy $6$ line for "${v.username}" byte for byte [ref §1.5]`, () => {
      const parsed = parseHashField(v.field);
      assert.ok(parsed && parsed.kind === 6, 'vector parses as $6$');
      assert.equal(formatPasswordLine(v.username, legacy6WithSalt(v.password, parsed.salt)), v.line);
    });
  }

  it('verifies every vector with its password and refuses a wrong or truncated one [ref §1.2]', async () => {
    const hasher = createMosquittoHasher();
    for (const v of vectors) {
      assert.equal(await hasher.verify(v.password, v.field), true, `${v.username} accepted`);
      assert.equal(await hasher.verify(`${v.password}x`, v.field), false, `${v.username} wrong password refused`);
      assert.equal(await hasher.verify(v.password.slice(0, -1), v.field), false, `${v.username} truncated password refused`);
      assert.equal(await hasher.verify('', v.field), false, `${v.username} empty password refused`);
    }
  });

  it('writes $7$<iter>$<16-char salt>$<88-char hash ending ==> with a fresh 12-byte salt each time [ref §1.2]', async () => {
    const hasher = createMosquittoHasher();
    const a = await hasher.hash('correct horse', 101);
    const b = await hasher.hash('correct horse', 101);
    assert.match(a, /^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$/);
    assert.notEqual(a, b, 'two hashes of one password differ by salt');
    assert.equal(await hasher.verify('correct horse', a), true);
    assert.equal(await hasher.verify('correct horsE', a), false);
    assert.match(await hasher.hash('x', 5000), /^\$7\$5000\$/);
  });

  it('draws a different salt for every hash, across refills of its pool of random bytes', async () => {
    const hasher = createMosquittoHasher();
    const hashes = await Promise.all(Array.from({ length: 2500 }, () => hasher.hash('same', 1)));
    assert.equal(new Set(hashes.map((h) => h.split('$')[3])).size, 2500);
    for (const h of hashes.slice(1020, 1030)) assert.equal(await hasher.verify('same', h), true, 'each hash verifies with its own salt');
  });

  it('hashes the UTF-8 bytes of the password [ref §1.2]', async () => {
    const hasher = createMosquittoHasher();
    const field = await hasher.hash('pässwörd ✓', 101);
    assert.equal(await hasher.verify('pässwörd ✓', field), true);
    assert.equal(await hasher.verify('passwoerd ✓', field), false);
  });

  it('verify returns false, never throws, on malformed fields [ref §1.1 table]', async () => {
    const hasher = createMosquittoHasher();
    const good = v7[0]!.field;
    const [, , iter = '', salt = '', hash = ''] = good.split('$');
    const urlSafe = hash.replace(/\+/g, '-').replace(/\//g, '_');
    const malformed = [
      '', 'plaintext', '$', '$7$', '$5$abc$def', `$7$0$${salt}$${hash}`, `$7$-1$${salt}$${hash}`, `$7$abc$${salt}$${hash}`,
      `$7$${iter}$${salt}`, `$7$${iter}$${salt}=$${hash}`, `$7$${iter}$${salt.slice(1)}$${hash}`,
      `$7$${iter}$${salt}$${hash.replace(/==$/, '')}`, `$7$${iter}$${salt}$${hash.slice(4)}`,
      `$7$${iter}$${salt}$${hash}$junk`, `$7$99999999999$${salt}$${hash}`, `$6$${salt}`,
      ...(urlSafe !== hash ? [`$7$${iter}$${salt}$${urlSafe}`] : []),
    ];
    for (const field of malformed) {
      assert.equal(await hasher.verify(v7[0]!.password, field), false, `refuses ${JSON.stringify(field)}`);
    }
    assert.equal(await hasher.verify(v7[0]!.password, undefined as unknown as string), false);
    assert.equal(await hasher.verify(undefined as unknown as string, good), false);
  });

  it('accepts a trailing "$" as the broker does (empty tokens are skipped) [ref §1.1]', async () => {
    const hasher = createMosquittoHasher();
    assert.equal(await hasher.verify(v7[0]!.password, `${v7[0]!.field}$`), true);
  });

  it('refuses to hash with a bad iteration count, a salt that is not 12 bytes, or a NUL in the password [ref §1.2]', async () => {
    const hasher = createMosquittoHasher();
    for (const n of [0, -1, 1.5, Number.NaN, 2 ** 31]) {
      await assert.rejects(hasher.hash('x', n), (e: unknown) => isDomainError(e) && e.code === 'MCM_ERR_VALIDATION', `iterations ${n}`);
    }
    await assert.rejects(hashWithSalt('x', Buffer.alloc(16), 101), (e: unknown) => isDomainError(e) && e.code === 'MCM_ERR_VALIDATION');
    await assert.rejects(hasher.hash('a\0b', 101), (e: unknown) => isDomainError(e) && e.code === 'MCM_ERR_VALIDATION');
  });

  it('formatPasswordLine joins with ":" and refuses what would break the line [ref §1.1]', () => {
    assert.equal(formatPasswordLine('bob smith', '$7$1$x$y'), 'bob smith:$7$1$x$y');
    assert.throws(() => formatPasswordLine('a:b', '$7$1$x$y'), (e: unknown) => isDomainError(e) && e.code === 'MCM_ERR_USERNAME_INVALID');
    assert.throws(() => formatPasswordLine('a\nb', '$7$1$x$y'), (e: unknown) => isDomainError(e) && e.code === 'MCM_ERR_USERNAME_INVALID');
    assert.throws(() => formatPasswordLine('a', '$7$1$x\n$y'), (e: unknown) => isDomainError(e) && e.code === 'MCM_ERR_PASSWORD_HASH_INVALID');
  });

  it('a freshly generated hash is accepted by the real broker; a wrong password is refused [ref §1.2, MQTT-3.2.2.3]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t);
    const hasher = createMosquittoHasher();
    const passwordFile = join(dir, 'passwd');
    const lines = [
      formatPasswordLine('fresh', await hasher.hash('fresh-Pa55 ✓', 101)),
      formatPasswordLine('many', await hasher.hash('many-iterations', 2000)),
    ];
    writeFileSync(passwordFile, `${lines.join('\n')}\n`, { mode: 0o644 });
    const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous false', `password_file ${passwordFile}`] });

    assert.deepEqual(await tryConnect(broker.port, 'fresh', 'fresh-Pa55 ✓'), { ok: true });
    assert.deepEqual(await tryConnect(broker.port, 'many', 'many-iterations'), { ok: true });
    const wrong = await tryConnect(broker.port, 'fresh', 'fresh-Pa55');
    assert.equal(wrong.ok, false);
    // MQTT 3.1.1 CONNACK 5 "not authorized" is what mosquitto 2.0 answers to a bad password.
    assert.equal(wrong.code, 5);
    assert.doesNotMatch(broker.log(), /removing entry/, 'the broker kept every generated line');
  });
});
