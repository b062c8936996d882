/**
 * The server's logger (adapters/logging/logger.ts) never prints a secret (DESIGN §9): the apply
 * loop and the supervisor log objects that could carry the service account or hashes.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import { createLogger } from '../../adapters/logging/logger.ts';

const capture = () => {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  return { lines, destination };
};

it('redacts password, hash, secret and token fields at any of the first three levels', () => {
  const { lines, destination } = capture();
  const log = createLogger({ level: 'info', destination });
  log.info({ password: 'p1', passwordHash: '$7$101$x', user: { password: 'p2', token: 't1' }, target: { tls: { secret: 's1' } }, ok: 'visible' }, 'hello');
  const out = lines.join('');
  for (const secret of ['p1', '$7$101$x', 'p2', 't1', 's1']) assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
  assert.match(out, /"ok":"visible"/);
  assert.match(out, /\[Redacted\]/);
});

it('honours the level', () => {
  const { lines, destination } = capture();
  const log = createLogger({ level: 'warn', destination });
  log.info({}, 'quiet');
  log.warn({}, 'loud');
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /"msg":"loud"/);
});
