/**
 * GitOps watch mode (adapters/gitops/watch.ts): chokidar on a real dir, a real SQLite event log.
 * A valid change is applied as one batch with actor gitops; invalid files are refused with every
 * problem reported, and nothing changes.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { handleCommand } from '../../core/handle-command.ts';
import type { Clock } from '../../core/ports.ts';
import { exportBundle } from '../../projections/gitops-export.ts';
import { watchGitopsDir, type GitopsWatchResult } from '../../adapters/gitops/watch.ts';
import { writeGitopsDir } from '../../adapters/gitops/yaml-files.ts';
import { createSqliteEventStore, type SqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { HASH_A, HASH_B } from '../helpers/decider-spec.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const SERVICE = 'mcm-service';
const clock: Clock = { now: () => '2026-03-01T12:00:00.000Z' };
const WAIT_MS = 10_000;

type Logged = { level: 'info' | 'error'; obj: unknown; msg: string };

/** A store on a temp dir, a GitOps dir exported from a small configuration, and a watch on it. */
const setup = async (t: TestContext, opts: { initialSync?: boolean } = {}) => {
  const root = tempDir(t);
  const db = openDatabase(join(root, 'data', 'mcm.db'));
  t.after(() => db.close());
  const store: SqliteEventStore = createSqliteEventStore({ db, snapshotEvery: 0 });
  const admin = { actor: { kind: 'admin', id: 'root' } } as const;
  handleCommand({ store, clock }, { type: 'DefineRole', data: { name: 'ops', rules: [{ topic: 'plant/#', access: 'read' }] } }, admin);
  handleCommand({ store, clock }, { type: 'CreateMqttUser', data: { username: 'alice', passwordHash: HASH_A, roles: ['ops'] } }, admin);
  const dir = join(root, 'gitops');
  writeGitopsDir(dir, exportBundle(store.state()));

  const logged: Logged[] = [];
  const logger = {
    info: (obj: unknown, msg: string) => { logged.push({ level: 'info', obj, msg }); },
    error: (obj: unknown, msg: string) => { logged.push({ level: 'error', obj, msg }); },
  };
  const results: GitopsWatchResult[] = [];
  const waiters = new Set<(r: GitopsWatchResult) => void>();
  const watch = watchGitopsDir({
    dir, store, clock, serviceAccount: SERVICE, logger: logger as never, debounceMs: 50,
    ...(opts.initialSync === undefined ? {} : { initialSync: opts.initialSync }),
    onResult: (r) => { results.push(r); for (const w of [...waiters]) w(r); },
  });
  t.after(() => watch.close());
  await watch.ready;
  /**
   * The first result from now on that `wanted` accepts (one edit may be reported more than once,
   * so an earlier edit's late duplicate is skipped), or a failure after a generous wait.
   */
  const next = (wanted: (r: GitopsWatchResult) => boolean = () => true): Promise<GitopsWatchResult> => new Promise((resolve, reject) => {
    const done = (r: GitopsWatchResult): void => {
      if (!wanted(r)) return;
      clearTimeout(timer);
      waiters.delete(done);
      resolve(r);
    };
    const timer = setTimeout(() => { waiters.delete(done); reject(new Error(`no matching GitOps result within ${WAIT_MS} ms`)); }, WAIT_MS);
    waiters.add(done);
  });
  const edit = (name: string, change: (text: string) => string): void => {
    writeFileSync(join(dir, name), change(readFileSync(join(dir, name), 'utf8')));
  };
  return { store, dir, watch, results, logged, next, edit };
};

describe('watchGitopsDir', () => {
  it('syncs once when ready: a dir that matches the log changes nothing', async (t) => {
    const w = await setup(t);
    assert.equal(w.results.length, 1);
    assert.deepEqual(w.results[0], { ok: true, seq: w.store.headSeq(), events_count: 0, changes: [] });
    assert.equal(w.store.headSeq(), 4);
  });

  it('applies an edited file as one batch with actor {kind: gitops, id: dir:<dir>}', async (t) => {
    const w = await setup(t, { initialSync: false });
    const head = w.store.headSeq();
    const result = w.next();
    w.edit('users.yaml', (s) => s.replace(HASH_A, HASH_B).replace('description: ""', 'description: rotated by git'));
    const r = await result;
    assert.equal(r.ok, true);
    const events = w.store.read({ after: head });
    assert.deepEqual(events.map((e) => e.type), ['MqttUserPasswordChanged', 'MqttUserDescribed']);
    assert.ok(events.every((e) => e.actor.kind === 'gitops' && e.actor.id === `dir:${w.dir}` && e.at === events[0]?.at));
    assert.equal(w.store.state().users['alice']?.passwordHash, HASH_B);
    assert.ok(w.logged.some((l) => l.level === 'info' && l.msg.includes('password rotated')), 'the applied plan is logged');
  });

  it('notices a new file written by rename (how editors, git and mcm export write)', async (t) => {
    const w = await setup(t, { initialSync: false });
    const result = w.next();
    const b = exportBundle(w.store.state());
    b.acls.push({ principal: 'anonymous', topic: 'public/#', access: 'read', description: 'added in git' });
    writeGitopsDir(w.dir, b);
    assert.equal((await result).ok, true);
    assert.deepEqual(Object.values(w.store.state().rules).map((r) => `${r.principal} ${r.access} ${r.topic}`).sort(), ['anonymous read public/#', 'role:ops read plant/#']);
  });

  it('refuses invalid files with every problem (file, line, path) and changes nothing; a fix is then applied', async (t) => {
    const w = await setup(t, { initialSync: false });
    const head = w.store.headSeq();
    const refused = w.next();
    w.edit('users.yaml', (s) => s.replace('    roles:\n      - ops\n', '    roles:\n      - opz\n    colour: blue\n'));
    const r = await refused;
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.problems.map((p) => [p.file, p.line, p.path]), [['users.yaml', 12, '/users/0/colour']]);
    assert.equal(w.store.headSeq(), head, 'nothing appended');
    const error = w.logged.find((l) => l.level === 'error');
    assert.match(error?.msg ?? '', /gitops: refused .*: 1 problem, nothing was changed/);
    assert.deepEqual((error?.obj as { problems: string[] }).problems, ['users.yaml:12 /users/0/colour: unknown key "colour"']);

    const stillRefused = w.next((x) => !x.ok && !x.problems.some((p) => p.path === '/users/0/colour'));
    w.edit('users.yaml', (s) => s.replace('    colour: blue\n', ''));
    const r2 = await stillRefused;
    assert.deepEqual(!r2.ok && r2.problems.map((p) => p.message), ['role "opz" is not defined in roles.yaml']);
    assert.equal(w.store.headSeq(), head);

    const fixed = w.next((x) => x.ok);
    w.edit('users.yaml', (s) => s.replace('- opz', '- ops').replace('description: ""', 'description: fixed'));
    assert.equal((await fixed).ok, true);
    assert.equal(w.store.state().users['alice']?.description, 'fixed');
  });

  it('refuses a hash the broker would drop (iterations above INT32_MAX) [ref §1.2], appending nothing', async (t) => {
    const w = await setup(t, { initialSync: false });
    const head = w.store.headSeq();
    const refused = w.next();
    w.edit('users.yaml', (s) => s.replace(HASH_A, HASH_A.replace('$7$101$', '$7$9999999999$')));
    const r = await refused;
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.problems[0]?.message ?? '' : '', /password_hash must be a Mosquitto hash field.*invalid hash iterations "9999999999"/);
    assert.equal(w.store.headSeq(), head);
  });

  it('refuses broker.yaml naming a certificate this data dir does not hold, with the file and pointer, appending nothing', async (t) => {
    const w = await setup(t, { initialSync: false });
    const head = w.store.headSeq();
    const refused = w.next();
    w.edit('broker.yaml', (s) => s.replace('  listeners: []\n', '  listeners:\n    - { name: tls, port: 8883, tls: { certificate: server } }\n'));
    const r = await refused;
    assert.deepEqual(!r.ok && r.problems, [{
      file: 'broker.yaml', path: '/broker/listeners/0/tls/certificate',
      message: 'certificate "server" (listener tls) is not in this data dir: add it with mcm certs add',
    }]);
    assert.equal(w.store.headSeq(), head);
  });
});
