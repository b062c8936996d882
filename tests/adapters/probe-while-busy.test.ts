/**
 * A probe failure while the supervised broker keeps a core busy (loading a big acl_file, during
 * which it answers nobody: reference §3.1, §10) is not final: the probe runs again until the
 * broker answers or idles (issue 14). Fail-open is final at once.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, it, type TestContext } from 'node:test';
import type { ProbeResult } from '../../adapters/mosquitto/probe.ts';
import { probeWhileBusy } from '../../adapters/mosquitto/probe-while-busy.ts';

/** A node child running `code`, once it has started (node's own start-up uses the CPU too). */
const child = async (t: TestContext, code: string): Promise<ChildProcess> => {
  const c = spawn(process.execPath, ['-e', `process.stdout.write('ready\\n'); ${code}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.after(() => { if (c.exitCode === null) c.kill('SIGKILL'); });
  await new Promise((resolve) => c.stdout?.once('data', resolve));
  await new Promise((resolve) => setTimeout(resolve, 500));
  return c;
};
const spinner = (t: TestContext): Promise<ChildProcess> => child(t, 'for (;;) {}');
const sleeper = (t: TestContext): Promise<ChildProcess> => child(t, 'setTimeout(() => {}, 60000)');

const NOT_LOADED: ProbeResult = { ok: false, reason: 'positive probe was not delivered within 300 ms', failOpen: false, unreachable: false };
const OPTS = { generation: 7, allowAnonymous: false, session: null };

/** A probe that fails `failures` times (each taking 300 ms, as a timeout would), then passes. */
const flaky = (failures: number, failure: ProbeResult = NOT_LOADED) => {
  let calls = 0;
  const probe = async (): Promise<ProbeResult> => {
    calls++;
    await new Promise((r) => setTimeout(r, 300));
    return calls > failures ? { ok: true, ms: 1 } : failure;
  };
  return { probe, calls: () => calls };
};

describe('probeWhileBusy', () => {
  it('probes again while the broker is busy, until it answers', async (t) => {
    const busy = await spinner(t);
    const p = flaky(3);
    const r = await probeWhileBusy(p.probe, OPTS, () => busy.pid ?? null);
    assert.equal(r.ok, true);
    assert.equal(p.calls(), 4);
  });

  it('lets the failure stand when the broker idles (hung, or really not loaded)', async (t) => {
    const idle = await sleeper(t);
    const p = flaky(3);
    const r = await probeWhileBusy(p.probe, OPTS, () => idle.pid ?? null);
    assert.deepEqual(r, NOT_LOADED);
    assert.equal(p.calls(), 1);
  });

  it('reports fail-open at once, busy or not', async (t) => {
    const busy = await spinner(t);
    const failOpen: ProbeResult = { ok: false, reason: 'fail-open: canary delivered', failOpen: true, unreachable: false };
    const p = flaky(3, failOpen);
    assert.deepEqual(await probeWhileBusy(p.probe, OPTS, () => busy.pid ?? null), failOpen);
    assert.equal(p.calls(), 1);
  });

  it('gives up after its bound even while the broker stays busy', async (t) => {
    const busy = await spinner(t);
    const p = flaky(100);
    const r = await probeWhileBusy(p.probe, OPTS, () => busy.pid ?? null, 1000);
    assert.deepEqual(r, NOT_LOADED);
    assert.ok(p.calls() >= 2 && p.calls() <= 5, `calls: ${p.calls()}`);
  });
});
