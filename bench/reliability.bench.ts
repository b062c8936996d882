/**
 * Issue 8's figures in one table: load, faults and hostile input (bench/reliability/*.ts), each
 * figure next to its same-run baseline where one exists and its target. Runs every scenario at
 * full scale (MCM_RELIABILITY_SCALE=ci for the shortened run CI does through
 * `npm run test:reliability`). One scenario failing to run is a row, not a crash of the bench.
 */
import type { Bench } from './bench.ts';
import { dbLocked } from './reliability/db-locked.ts';
import type { ReliabilityFigures, ReliabilityScenario } from './reliability/figures.ts';
import { scaleFromEnv } from './reliability/figures.ts';
import { fullDisk } from './reliability/full-disk.ts';
import { fuzzApi } from './reliability/fuzz-api.ts';
import { hostileMqtt } from './reliability/hostile-mqtt.ts';
import { hostileWs } from './reliability/hostile-ws.ts';
import { killBroker } from './reliability/kill-broker.ts';
import { killMcm } from './reliability/kill-mcm.ts';
import { loadScenario } from './reliability/load.ts';

export const SCENARIOS: readonly [string, ReliabilityScenario][] = [
  ['load', loadScenario],
  ['kill-mcm', killMcm],
  ['kill-broker', killBroker],
  ['full-disk', fullDisk],
  ['db-locked', dbLocked],
  ['fuzz-api', fuzzApi],
  ['hostile-mqtt', hostileMqtt],
  ['hostile-ws', hostileWs],
];

const bench: Bench = {
  name: 'reliability',
  description: 'load, faults and hostile input (issue 8)',
  async run(log) {
    const scale = scaleFromEnv();
    const results: ReliabilityFigures[] = [];
    const started = Date.now();
    for (const [name, scenario] of SCENARIOS) {
      const t0 = Date.now();
      log(`reliability: ${name} (${scale}) …`);
      try {
        const r = await scenario({ scale, log: (l) => log(`  ${name}: ${l}`) });
        results.push({ ...r, data: { ...r.data, duration_s: Math.round((Date.now() - t0) / 1000) } });
      } catch (err) {
        results.push({ name, rows: [{ figure: 'scenario ran', value: String((err as Error).message).slice(0, 200), target: 'completes', ok: false }], data: { error: String((err as Error).stack) }, pass: false });
      }
      log(`reliability: ${name} done in ${Math.round((Date.now() - t0) / 1000)} s`);
    }
    return {
      table: {
        columns: ['scenario', 'figure', 'value', 'baseline', 'target', 'ok'],
        rows: results.flatMap((r) => r.rows.map((row) => [r.name, row.figure, row.value, row.baseline ?? '', row.target ?? '', row.ok ? 'yes' : 'NO'])),
      },
      data: { scale, duration_s: Math.round((Date.now() - started) / 1000), scenarios: results },
      pass: results.every((r) => r.pass),
      notes: results.filter((r) => !r.pass).map((r) => `${r.name}: missed ${r.rows.filter((x) => !x.ok).map((x) => x.figure).join(', ')}`),
    };
  },
};

export default bench;
