/**
 * `npm run bench` → node bench/run.ts [name …]. Runs every bench/*.bench.ts (or the named ones,
 * e.g. `apply-latency`), prints each result as a table, and writes bench/results/<name>.json.
 * Exit status 1 when a bench missed a stated target.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchTable } from './bench.ts';

const here = dirname(fileURLToPath(import.meta.url));

export const formatTable = ({ columns, rows }: BenchTable): string => {
  const cells = [columns, ...rows.map((r) => r.map(String))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(cells[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
};

const names = process.argv.slice(2);
const files = names.length
  ? names.map((n) => (n.endsWith('.bench.ts') ? n : `${n}.bench.ts`))
  : readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort();

let ok = true;
mkdirSync(join(here, 'results'), { recursive: true });
const latest: Record<string, unknown> = {};
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: Bench };
  const bench = mod.default;
  process.stdout.write(`\n== ${bench.name}: ${bench.description}\n`);
  const result = await bench.run((l) => process.stderr.write(`${l}\n`));
  process.stdout.write(`${formatTable(result.table)}\n`);
  for (const n of result.notes ?? []) process.stdout.write(`note: ${n}\n`);
  const out = join(here, 'results', `${bench.name}.json`);
  writeFileSync(out, `${JSON.stringify(result.data, null, 2)}\n`);
  process.stdout.write(`saved ${out}${result.pass ? '' : '  (TARGET MISSED)'}\n`);
  ok &&= result.pass;
  latest[bench.name] = { description: bench.description, pass: result.pass, table: result.table, notes: result.notes ?? [], data: result.data };
}
const latestPath = join(here, 'results', 'latest.json');
// Running some benches updates their entries and keeps the others' last figures.
let previous: Record<string, unknown> = {};
try {
  const prior = JSON.parse(readFileSync(latestPath, 'utf8')) as { benches?: Record<string, unknown> };
  previous = prior.benches ?? {};
} catch { /* first run */ }
const benches = { ...previous, ...latest };
writeFileSync(latestPath, `${JSON.stringify({
  generated_at: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? null, memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version },
  pass: Object.values(benches).every((b) => (b as { pass?: boolean }).pass !== false),
  benches,
}, null, 2)}\n`);
process.stdout.write(`saved ${latestPath}\n`);
process.exitCode = ok ? 0 : 1;
