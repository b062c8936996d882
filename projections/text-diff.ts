/**
 * A unified diff of two small texts (mosquitto.conf previews): longest common subsequence on
 * lines, hunks with `context` lines around each change, headers as `diff -u` prints them.
 * Quadratic in lines, which is fine for a configuration file (the core caps listeners, bridges and
 * passthrough lines); over MAX_LINES it falls back to "everything replaced".
 */
const MAX_LINES = 4000;

type Op = { kind: ' ' | '-' | '+'; line: string; a: number; b: number };

const ops = (a: readonly string[], b: readonly string[]): Op[] => {
  if (a.length * b.length > MAX_LINES * MAX_LINES / 4) {
    return [...a.map((line, i) => ({ kind: '-' as const, line, a: i, b: 0 })), ...b.map((line, j) => ({ kind: '+' as const, line, a: a.length, b: j }))];
  }
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) { out.push({ kind: ' ', line: a[i]!, a: i, b: j }); i++; j++; }
    else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) { out.push({ kind: '+', line: b[j]!, a: i, b: j }); j++; }
    else { out.push({ kind: '-', line: a[i]!, a: i, b: j }); i++; }
  }
  return out;
};

const lines = (t: string): string[] => (t === '' ? [] : t.replace(/\n$/, '').split('\n'));

export const unifiedDiff = (before: string, after: string, names: { a: string; b: string }, context = 3): string => {
  const all = ops(lines(before), lines(after));
  const changed = all.map((o, k) => (o.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return '';
  const hunks: [number, number][] = [];
  for (const k of changed) {
    const lo = Math.max(0, k - context);
    const hi = Math.min(all.length - 1, k + context);
    const last = hunks[hunks.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else hunks.push([lo, hi]);
  }
  const out = [`--- ${names.a}`, `+++ ${names.b}`];
  for (const [lo, hi] of hunks) {
    const slice = all.slice(lo, hi + 1);
    const aCount = slice.filter((o) => o.kind !== '+').length;
    const bCount = slice.filter((o) => o.kind !== '-').length;
    const aStart = (slice.find((o) => o.kind !== '+')?.a ?? slice[0]!.a) + (aCount === 0 ? 0 : 1);
    const bStart = (slice.find((o) => o.kind !== '-')?.b ?? slice[0]!.b) + (bCount === 0 ? 0 : 1);
    out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`, ...slice.map((o) => `${o.kind}${o.line}`));
  }
  return `${out.join('\n')}\n`;
};
