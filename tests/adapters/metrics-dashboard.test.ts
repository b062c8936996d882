/**
 * deploy/grafana/mcm-dashboard.json is built on MCM's own metrics: every metric a panel queries
 * exists in the registry (a renamed instrument breaks this test, not a dashboard in production),
 * every instrument appears on some panel, and the datasource is the `${DS_PROMETHEUS}` input.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createMetrics } from '../../adapters/metrics/registry.ts';

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/mcm-dashboard.json', import.meta.url), 'utf8'));

type Panel = { id: number; type: string; title: string; datasource?: { uid: string }; targets?: { expr: string; datasource?: { uid: string } }[]; panels?: Panel[] };
const panels = (): Panel[] => (dashboard.panels as Panel[]).flatMap((p) => [p, ...(p.panels ?? [])]);
const queried = (): Panel[] => panels().filter((p) => p.type !== 'row');

/** Series names a PromQL expression reads: histogram suffixes map to their family. */
const metricNames = (expr: string): string[] =>
  [...expr.matchAll(/\bmcm_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));

describe('Grafana dashboard (deploy/grafana/mcm-dashboard.json)', () => {
  it('queries only metrics the registry defines', async () => {
    const defined = new Set((await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name));
    const unknown = queried().flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr).filter((n) => !defined.has(n)).map((n) => `${p.title}: ${n}`)));
    assert.deepEqual(unknown, []);
  });

  it('shows every instrument of the registry on some panel', async () => {
    const used = new Set(queried().flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr))));
    const defined = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    assert.deepEqual(defined.filter((n) => !used.has(n)), []);
  });

  it('uses the ${DS_PROMETHEUS} datasource input everywhere and unique panel ids', () => {
    assert.ok((dashboard.__inputs as { name: string }[]).some((i) => i.name === 'DS_PROMETHEUS'));
    for (const p of queried()) {
      assert.equal(p.datasource?.uid, '${DS_PROMETHEUS}', p.title);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
      for (const t of p.targets ?? []) assert.equal(t.datasource?.uid, '${DS_PROMETHEUS}', p.title);
    }
    const ids = panels().map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
  });
});
