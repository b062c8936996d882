/**
 * `npm run bench import`: adopting a big existing Mosquitto (issue "Adopt an existing Mosquitto").
 * Hand-made-style files of 100,000 users (real `$7$` hashes, PBKDF2-SHA512 101 iterations, as
 * mosquitto_passwd writes them) and 100,000 ACL lines (a `user` block per device), imported with the
 * real CLI in a child process each: `mcm import --plan`, `mcm import --yes` (direct on a new data
 * dir), and the second `--plan` (must find nothing). Wall time and peak RSS of each, next to a
 * baseline measured in the same run: a child that only reads both files, hashes them (sha256) and
 * splits their lines — the least any import must do.
 */
import { spawnSync } from 'node:child_process';
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bench } from './bench.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const node = join(root, 'node_modules', '.bin', 'node');
const USERS = Number(process.env['MCM_BENCH_IMPORT_USERS'] ?? 100_000);

/** `$7$101$…` exactly as mosquitto_passwd 2.0 writes it (reference §1.2). */
const hash7 = (password: string): string => {
  const salt = randomBytes(12);
  return `$7$101$${salt.toString('base64')}$${pbkdf2Sync(password, salt, 101, 64, 'sha512').toString('base64')}`;
};

const makeFiles = (dir: string, users: number): { passwd: string; acl: string; aclLines: number } => {
  const pw: string[] = [];
  const acl: string[] = ['# devices of the plant, one block each', 'topic read public/#', ''];
  let aclLines = 1;
  for (let i = 0; i < users; i++) {
    const name = `device-${String(i).padStart(6, '0')}`;
    pw.push(`${name}:${hash7(`pw-${i}`)}`);
    acl.push(`user ${name}`, `topic readwrite devices/${name}/#`);
    aclLines++;
  }
  acl.push('pattern read status/%c/#');
  aclLines++;
  const passwd = join(dir, 'passwd');
  const aclPath = join(dir, 'acl');
  writeFileSync(passwd, `${pw.join('\n')}\n`, { mode: 0o640 });
  writeFileSync(aclPath, `${acl.join('\n')}\n`, { mode: 0o640 });
  return { passwd, acl: aclPath, aclLines };
};

type Run = { ms: number; rssMiB: number; status: number | null; stdout: string; stderr: string };

const measure = (args: string[], env: Record<string, string>): Run => {
  const rssFile = join(mkdtempSync(join(tmpdir(), 'mcm-bench-rss-')), 'rss');
  const started = performance.now();
  const r = spawnSync(node, ['--import', join(root, 'bench', 'peak-rss.ts'), ...args], {
    cwd: root, encoding: 'utf8', maxBuffer: 256 * 2 ** 20,
    env: { ...process.env, ...env, MCM_BENCH_RSS_FILE: rssFile, MCM_LOG_LEVEL: 'warn' },
  });
  const ms = performance.now() - started;
  let rssKiB = NaN;
  try { rssKiB = Number(readFileSync(rssFile, 'utf8')); } catch { /* the child died before exit */ }
  rmSync(dirname(rssFile), { recursive: true, force: true });
  return { ms, rssMiB: rssKiB / 1024, status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const BASELINE = `
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
let lines = 0;
for (const f of process.argv.slice(1)) {
  const text = readFileSync(f, 'utf8');
  createHash('sha256').update(text, 'utf8').digest('hex');
  lines += text.split('\\n').length;
}
if (lines === 0) process.exit(1);
`;

const bench: Bench = {
  name: 'import',
  description: `mcm import of ${USERS.toLocaleString('en')} users ($7$) and as many ACL lines: plan, apply, second plan (real CLI, one child each)`,
  async run(log) {
    const dir = mkdtempSync(join(tmpdir(), 'mcm-bench-import-'));
    try {
      log(`generating ${USERS} $7$ hashes…`);
      const files = makeFiles(dir, USERS);
      const dataDir = join(dir, 'data');
      const env = { MCM_DATA_DIR: dataDir, MCM_MOSQUITTO_MODE: 'external' };
      const cli = (...args: string[]): string[] => [join(root, 'adapters', 'cli', 'main.ts'), ...args];
      const fileArgs = ['--password-file', files.passwd, '--acl-file', files.acl];

      log('baseline: read + sha256 + split both files');
      const baseline = measure(['--input-type=module', '-e', BASELINE, files.passwd, files.acl], {});
      log('mcm import --plan');
      const plan = measure(cli('import', ...fileArgs, '--plan', '--json'), env);
      log('mcm import --yes');
      const apply = measure(cli('import', ...fileArgs, '--yes', '--json'), env);
      log('mcm import --plan (again)');
      const again = measure(cli('import', ...fileArgs, '--plan', '--json'), env);

      const expect = [
        { name: 'baseline: read, sha256, split', run: baseline, status: 0 },
        { name: 'mcm import --plan', run: plan, status: 2 },
        { name: 'mcm import --yes (direct, one batch)', run: apply, status: 0 },
        { name: 'mcm import --plan again (nothing to do)', run: again, status: 0 },
      ];
      const failures = expect.filter((e) => e.run.status !== e.status);
      for (const f of failures) log(`${f.name}: exit ${f.run.status}, expected ${f.status}\n${f.run.stderr.slice(0, 2000)}`);
      let summary: unknown = null;
      try { summary = (JSON.parse(plan.stdout) as { summary?: unknown }).summary ?? null; } catch { /* reported by the status check */ }
      return {
        table: {
          columns: ['step', 'exit', 'wall ms', '× baseline', 'peak RSS MiB'],
          rows: expect.map((e) => [
            e.name, String(e.run.status), e.run.ms.toFixed(0), (e.run.ms / baseline.ms).toFixed(1), e.run.rssMiB.toFixed(0),
          ]),
        },
        data: {
          users: USERS, acl_lines: files.aclLines,
          bytes: { password_file: readFileSync(files.passwd).length, acl_file: readFileSync(files.acl).length },
          steps: Object.fromEntries(expect.map((e) => [e.name, { exit: e.run.status, ms: Math.round(e.run.ms), peak_rss_mib: Math.round(e.run.rssMiB) }])),
          plan_summary: summary,
          at: new Date().toISOString(), node: process.version,
        },
        pass: failures.length === 0,
        notes: [
          `${USERS.toLocaleString('en')} users with real $7$ hashes and ${files.aclLines.toLocaleString('en')} ACL topic lines; files ${(readFileSync(files.passwd).length / 2 ** 20).toFixed(1)} MiB + ${(readFileSync(files.acl).length / 2 ** 20).toFixed(1)} MiB.`,
          'Each step is a fresh process (node start-up included); the apply appends every user and rule as one batch to a new SQLite event log.',
          'Pass = every step exits as documented (plan 2 = changes, apply 0, second plan 0 = nothing to do); the figures are reported, not asserted.',
        ],
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
