/**
 * What node:test's `t.after` gives a test, for scenarios that also run outside node:test (the
 * bench): steps registered with `add` run once, newest first, and a failing step does not stop
 * the others (the first error is rethrown at the end).
 *
 *   const cleanups = createCleanups();
 *   try { const dir = cleanups.tempDir('mcm-fuzz-'); … } finally { await cleanups.run(); }
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Cleanups = {
  add(step: () => unknown): void;
  /** A fresh directory under the OS temp dir, removed by `run`. */
  tempDir(prefix: string): string;
  run(): Promise<void>;
};

export const createCleanups = (): Cleanups => {
  const steps: (() => unknown)[] = [];
  return {
    add: (step) => { steps.push(step); },
    tempDir: (prefix) => {
      const dir = mkdtempSync(join(tmpdir(), prefix));
      steps.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    run: async () => {
      let first: unknown = null;
      for (const step of steps.splice(0).reverse()) {
        try { await step(); } catch (e) { first ??= e; }
      }
      if (first !== null) throw first;
    },
  };
};
