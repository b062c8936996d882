/**
 * `/metrics` passes Prometheus's own linter (issue 12: "`promtool check metrics` fails on
 * `mcm_nodejs_active_handles_total` and two more gauges named `_total`"). The exposition of a
 * running app is scraped over HTTP and piped to `promtool check metrics`: exit 0, no output.
 * promtool comes from Debian's `prometheus` package (npm run setup installs it); without it the
 * test is skipped, except in CI (CI=true), where a missing tool is a failure.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it, type TestContext } from 'node:test';
import { handleCommand } from '../../core/handle-command.ts';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createMetrics } from '../../adapters/metrics/registry.ts';
import { HASH_A } from '../helpers/decider-spec.ts';
import { createTestApp, ROLE_USERS, TEST_PASSWORD } from '../helpers/http.ts';

const promtool = (t: TestContext): string | null => {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
  if (found) return found;
  if (process.env['CI'] === 'true') throw new Error('promtool is not installed: run `npm run setup` (apt-get install prometheus ships /usr/bin/promtool)');
  t.skip('promtool not installed (npm run setup installs Debian\'s prometheus package, which ships it)');
  return null;
};

const check = (bin: string, exposition: string): { status: number | null; output: string } => {
  const r = spawnSync(bin, ['check', 'metrics'], { input: exposition, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

describe('GET /metrics and promtool', () => {
  it('passes `promtool check metrics` with no finding, process metrics included (as adapters/main.ts wires them)', async (t) => {
    const bin = promtool(t);
    if (!bin) return;
    const bus = createLiveBus();
    const metrics = createMetrics({ bus, processMetrics: true, sources: { headSeq: () => 0, wsClients: () => 0, topicsTracked: () => 0 } });
    t.after(() => metrics.stop());
    const h = await createTestApp(t, { deps: { metrics } });
    // Traffic, so the labelled series exist and are linted too.
    assert.equal((await h.login(ROLE_USERS.viewer, TEST_PASSWORD)).status, 200);
    assert.equal((await h.login(ROLE_USERS.viewer, 'wrong-password-0123')).status, 401);
    handleCommand(h.deps, { type: 'CreateMqttUser', data: { username: 'lint-device', passwordHash: HASH_A } }, { actor: { kind: 'system', id: 'test' } });
    metrics.recordApply('applied', 120);
    metrics.recordWebhookDelivery('delivered');
    bus.publish({ type: 'security_event', category: 'auth.login_failed', severity: 'warning', message: 'bad login', at: new Date().toISOString() });
    bus.publish({ type: 'broker_status', up: true, at: new Date().toISOString() } as Parameters<typeof bus.publish>[0]);

    const res = await h.request('GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.text, /^mcm_nodejs_active_handles\{/m, 'the per-type process gauges are exported');
    assert.match(res.text, /^mcm_http_requests_total\{/m);
    const { status, output } = check(bin, res.text);
    assert.equal(output, '', 'promtool reports nothing');
    assert.equal(status, 0);
  });

  it('the check itself catches a gauge named _total (the test can fail)', (t) => {
    const bin = promtool(t);
    if (!bin) return;
    const { status, output } = check(bin, '# HELP x_total A gauge.\n# TYPE x_total gauge\nx_total 1\n');
    assert.notEqual(status, 0);
    assert.match(output, /x_total non-counter metrics should not have "_total" suffix/);
  });
});
