/**
 * The shape every reliability scenario (bench/reliability/*.ts, issue 8: load, faults and hostile
 * input) returns, so the bench can print and save it and tests/reliability/*.test.ts can assert
 * on it. A scenario is context-free (no node:test): it cleans up its own temp dirs and processes.
 *
 *   const figures = await fuzzApi({ scale: 'ci', log: console.log });
 *   assert.ok(figures.pass, figures.rows.filter((r) => !r.ok).map((r) => r.figure).join(', '));
 */

/** 'full': the figures quoted in the README (minutes); 'ci': the same checks, smaller (well under a minute). */
export type ReliabilityScale = 'full' | 'ci';

export type ReliabilityOptions = Readonly<{
  scale: ReliabilityScale;
  log: (line: string) => void;
}>;

export type FigureRow = {
  figure: string;
  value: string | number;
  /** What the same figure is without the fault or load, when that comparison means something. */
  baseline?: string | number;
  /** The stated target, e.g. "0" or ">= 10000". */
  target?: string;
  /** False when the target was missed. */
  ok: boolean;
};

export type ReliabilityFigures = {
  name: string;
  rows: FigureRow[];
  /** Everything else worth keeping (saved as JSON by the bench). */
  data: Record<string, unknown>;
  /** True when every row is ok. */
  pass: boolean;
};

export type ReliabilityScenario = (options: ReliabilityOptions) => Promise<ReliabilityFigures>;

/** The scale from MCM_RELIABILITY_SCALE (CI sets 'ci'); default 'full'. */
export const scaleFromEnv = (env: NodeJS.ProcessEnv = process.env): ReliabilityScale => {
  const v = env['MCM_RELIABILITY_SCALE'];
  if (v === undefined || v === '' || v === 'full') return 'full';
  if (v === 'ci') return 'ci';
  throw new Error(`MCM_RELIABILITY_SCALE must be 'full' or 'ci' (got ${JSON.stringify(v)})`);
};

/** A row whose target is "exactly `expected`". */
export const exactRow = (figure: string, value: number, expected: number): FigureRow =>
  ({ figure, value, target: String(expected), ok: value === expected });

/** A row whose target is "at least `min`". */
export const atLeastRow = (figure: string, value: number, min: number): FigureRow =>
  ({ figure, value, target: `>= ${min}`, ok: value >= min });

/** Builds the result; `pass` is derived from the rows. */
export const figures = (name: string, rows: FigureRow[], data: Record<string, unknown>): ReliabilityFigures =>
  ({ name, rows, data, pass: rows.every((r) => r.ok) });

/** "503 ×3, 200 ×1": how often each answer came. */
export const tally = (xs: readonly string[]): string => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return [...m].map(([k, n]) => `${k} ×${n}`).join(', ');
};

/**
 * `node bench/reliability/<scenario>.ts [ci|full]` (else MCM_RELIABILITY_SCALE): runs one
 * scenario on its own, prints its rows (and `extra` lines when it failed or asks for them),
 * exit 1 when a target was missed.
 */
export const runStandalone = async (scenario: ReliabilityScenario, extra: (result: ReliabilityFigures) => string[] = () => []): Promise<void> => {
  const arg = process.argv[2];
  const scale: ReliabilityScale = arg === 'full' || arg === 'ci' ? arg : scaleFromEnv();
  const result = await scenario({ scale, log: (l) => process.stderr.write(`${l}\n`) });
  for (const r of result.rows) {
    process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.figure}: ${r.value}${r.baseline === undefined ? '' : ` (baseline ${r.baseline})`}${r.target === undefined ? '' : ` [target ${r.target}]`}\n`);
  }
  for (const line of extra(result)) process.stdout.write(`${line}\n`);
  process.stdout.write(`${result.pass ? 'PASS' : 'FAIL'}\n`);
  process.exitCode = result.pass ? 0 : 1;
};
