/**
 * The enforcement probe against real brokers in known states (DESIGN §6, reference §3.4): it must
 * pass only when the new files are loaded AND enforced, and name fail-open when they are not.
 */
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { openProbeSession, probeBroker, type ProbeTarget } from '../../adapters/mosquitto/probe.ts';
import { requireMosquitto, startMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const SVC = 'mcm-service';
const PW = 'svc-secret';

const svcAcl = (generation: number): string =>
  `# generation ${generation}\nuser ${SVC}\ntopic readwrite #\ntopic read $SYS/#\ntopic read $mcm/#\ntopic write $mcm/probe/${generation}\n`;

type Setup = { broker: Broker; target: ProbeTarget; dir: string; acl: string; passwd: string };

const setup = async (t: TestContext, bin: string, opts: { acl?: string | null; anonymous?: boolean } = {}): Promise<Setup> => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const passwd = join(dir, 'passwd');
  const acl = join(dir, 'acl');
  writeFileSync(passwd, `${SVC}:${await createMosquittoHasher().hash(PW, 101)}\n`, { mode: 0o644 });
  writeFileSync(acl, opts.acl === undefined ? svcAcl(7) : opts.acl ?? '', { mode: 0o644 });
  const broker = await startMosquitto(t, bin, {
    dir,
    lines: [`allow_anonymous ${opts.anonymous ? 'true' : 'false'}`, `password_file ${passwd}`, ...(opts.acl === null ? [] : [`acl_file ${acl}`])],
  });
  return { broker, dir, acl, passwd, target: { host: '127.0.0.1', port: broker.port, username: SVC, password: PW } };
};

describe('probeBroker (real mosquitto)', () => {
  it('passes when the broker loaded the generation and enforces it', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t, bin);
    const r = await probeBroker(s.target, { generation: 7, allowAnonymous: false, timeoutMs: 3000 });
    assert.equal(r.ok, true, JSON.stringify(r));
  });

  it('fails (not fail-open) when the broker has not loaded the generation: the positive probe is denied', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t, bin);
    // The timeout bounds every step (the canary's PUBACK too): generous, so a loaded machine can't
    // turn "not delivered" into "no PUBACK".
    // 5 s: the full CI run keeps both cores busy, and 2 s was seen to expire on the canary's PUBACK.
    const r = await probeBroker(s.target, { generation: 8, allowAnonymous: false, timeoutMs: 5000 });
    assert.equal(r.ok, false);
    assert.ok(!r.ok && !r.failOpen && !r.unreachable);
    assert.match(!r.ok ? r.reason : '', /\$mcm\/probe\/8 was not delivered within 5000 ms/);
  });

  it('names fail-open when the ACL file is broken after a reload: the canary gets through [ref §3.4]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t, bin);
    writeFileSync(s.acl, 'topic readd x\n');
    const from = s.broker.log().length;
    s.broker.reload();
    await s.broker.waitForLog('Error opening acl file', 5000, from);
    const r = await probeBroker(s.target, { generation: 7, allowAnonymous: false, timeoutMs: 3000 });
    assert.ok(!r.ok && r.failOpen, JSON.stringify(r));
    assert.match(!r.ok ? r.reason : '', /fail-open/);
  });

  it('names fail-open when a broker without acl_file allows everything', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t, bin, { acl: null });
    const r = await probeBroker(s.target, { generation: 7, allowAnonymous: false, timeoutMs: 3000 });
    assert.ok(!r.ok && r.failOpen);
  });

  it('names fail-open when anonymous clients are accepted while the state says anonymous is off', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t, bin, { anonymous: true });
    const r = await probeBroker(s.target, { generation: 7, allowAnonymous: false, timeoutMs: 3000 });
    assert.ok(!r.ok && r.failOpen);
    assert.match(!r.ok ? r.reason : '', /anonymous client/);
    assert.equal((await probeBroker(s.target, { generation: 7, allowAnonymous: true, timeoutMs: 3000 })).ok, true, 'fine when anonymous is meant to be on');
  });

  it('says the service account was refused, and that a closed port is unreachable', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t, bin);
    const wrong = await probeBroker({ ...s.target, password: 'nope' }, { generation: 7, allowAnonymous: false, timeoutMs: 2000 });
    assert.ok(!wrong.ok && !wrong.failOpen && /refused MCM's service account/.test(wrong.reason));
    await s.broker.stop();
    const down = await probeBroker(s.target, { generation: 7, allowAnonymous: false, timeoutMs: 2000 });
    assert.ok(!down.ok && down.unreachable, JSON.stringify(down));
  });

  it('a session opened before the reload survives it and confirms the new generation [ref §3.3]', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const s = await setup(t, bin);
    const session = openProbeSession(s.target, 3000);
    writeFileSync(s.acl, svcAcl(9));
    s.broker.reload();
    const r = await probeBroker(s.target, { generation: 9, allowAnonymous: false, timeoutMs: 3000, session });
    assert.equal(r.ok, true, JSON.stringify(r));
  });
});
