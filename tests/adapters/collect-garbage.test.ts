/**
 * collectGarbage (adapters/memory/collect-garbage.ts, issue 14): a major GC on request, without
 * --expose-gc on the command line, that really gives back what nothing references any more.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { collectGarbage } from '../../adapters/memory/collect-garbage.ts';

it('collects unreferenced memory at once and gives the heap\'s pages back, and can be called again', () => {
  assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined', 'this test process runs without --expose-gc');
  let garbage: string[] | null = Array.from({ length: 200_000 }, (_, i) => `${i}:${'x'.repeat(200)}`.slice(1));
  const held = process.memoryUsage();
  assert.ok(garbage.length > 0);
  garbage = null;
  collectGarbage();
  const after = process.memoryUsage();
  const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
  assert.ok(held.heapUsed - after.heapUsed > 20 * 2 ** 20, `freed ${mib(held.heapUsed - after.heapUsed)} of about 40 MiB of strings`);
  // The pages go back too: a plain major GC would leave the heap's size as it was.
  assert.ok(held.heapTotal - after.heapTotal > 20 * 2 ** 20, `the heap shrank by ${mib(held.heapTotal - after.heapTotal)}`);
  collectGarbage();
});
