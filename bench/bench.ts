/**
 * The shape every `bench/*.bench.ts` default-exports, so bench/run.ts can run, print and save it.
 */
export type BenchTable = { columns: string[]; rows: (string | number)[][] };

export type BenchResult = Readonly<{
  /** Printed as a table. */
  table: BenchTable;
  /** Saved as bench/results/<name>.json. */
  data: unknown;
  /** False when a stated target was missed (run.ts exits 1). */
  pass: boolean;
  notes?: string[];
}>;

export type Bench = Readonly<{
  name: string;
  description: string;
  run(log: (line: string) => void): Promise<BenchResult>;
}>;
