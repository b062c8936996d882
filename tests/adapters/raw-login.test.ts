/**
 * adapters/mosquitto/raw-login.ts: the probe's login checks on a bare socket (issue 14). The packet
 * against MQTT 5.0 §3.1 byte for byte, and every answer a real mosquitto gives: accepted, refused
 * with its reason code, nothing listening, and a peer that never answers.
 */
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { connackReason, connectPacket, rawLogin } from '../../adapters/mosquitto/raw-login.ts';
import { requireMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('raw MQTT v5 login', () => {
  it('writes CONNECT as MQTT 5.0 §3.1 lays it out', () => {
    const p = connectPacket({ clientId: 'c1', username: 'u', password: 'pw' });
    assert.deepEqual([...p], [
      0x10, 22, // CONNECT, remaining length
      0, 4, 0x4d, 0x51, 0x54, 0x54, 5, // "MQTT", protocol level 5
      0xc2, 0, 30, 0, // flags: username, password, clean start; keep alive 30 s; no properties
      0, 2, 0x63, 0x31, // client id
      0, 1, 0x75, // username
      0, 2, 0x70, 0x77, // password
    ]);
    const anonymous = connectPacket({ clientId: 'c1' });
    assert.equal(anonymous[9], 0x02, 'only clean start without credentials');
    assert.equal(anonymous.length, 2 + 11 + 4, 'fixed header, variable header, client id');
  });

  it('reads the reason code of a CONNACK, waits for the rest of one, and refuses anything else first', () => {
    assert.equal(connackReason(Buffer.from([0x20, 3, 0, 0x87, 0])), 0x87);
    assert.equal(connackReason(Buffer.from([0x20, 3, 0, 0, 0])), 0);
    assert.equal(connackReason(Buffer.from([0x20, 3, 0])), null);
    assert.equal(connackReason(Buffer.alloc(0)), null);
    assert.ok(connackReason(Buffer.from([0x30, 0])) instanceof Error);
  });

  it('gets accepted, refused (0x86 bad user name or password, 0x87 not authorized) from a real broker', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t);
    chmodSync(dir, 0o755);
    const passwd = join(dir, 'passwd');
    writeFileSync(passwd, `alice:${await createMosquittoHasher().hash('secret', 101)}\n`, { mode: 0o644 });
    const broker = await startMosquitto(t, bin, { dir, lines: ['allow_anonymous false', `password_file ${passwd}`] });
    const target = { host: '127.0.0.1', port: broker.port };
    assert.deepEqual(await rawLogin(target, { clientId: 'raw-1', username: 'alice', password: 'secret' }, 5000), { kind: 'accepted' });
    const wrong = await rawLogin(target, { clientId: 'raw-2', username: 'alice', password: 'nope' }, 5000);
    assert.equal(wrong.kind, 'refused');
    assert.ok(wrong.kind === 'refused' && wrong.code >= 0x80, JSON.stringify(wrong));
    const anonymous = await rawLogin(target, { clientId: 'raw-3' }, 5000);
    assert.equal(anonymous.kind, 'refused');
  });

  it('says unreachable when nothing listens, and timeout when the peer never answers', async (t) => {
    const closed = await rawLogin({ host: '127.0.0.1', port: await freePort() }, { clientId: 'raw-4' }, 5000);
    assert.equal(closed.kind, 'unreachable');
    assert.match(closed.kind === 'unreachable' ? closed.message : '', /ECONNREFUSED/);
    const silent = createServer(() => { /* accepts, never answers */ });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    t.after(() => silent.close());
    const port = (silent.address() as { port: number }).port;
    assert.deepEqual(await rawLogin({ host: '127.0.0.1', port }, { clientId: 'raw-5' }, 200), { kind: 'timeout' });
  });
});
