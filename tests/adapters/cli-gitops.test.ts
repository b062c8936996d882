/**
 * `mcm export`, `mcm plan`, `mcm apply` as an operator runs them (bin/mcm in a child process):
 * exit codes (plan: 0 no changes, 2 changes, 1 error), the plan's text, one atomic batch with
 * actor gitops, every problem of invalid files listed, and the round trip through files.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Recorded } from '../../core/evolve.ts';
import type { EventEnvelope } from '../../core/events.ts';
import { createApplyCommand } from '../../adapters/cli/commands/apply.ts';
import { runCli } from '../../adapters/cli/run-cli.ts';
import { createSqliteEventStore } from '../../adapters/sqlite/event-store.ts';
import { openDatabase } from '../../adapters/sqlite/open-database.ts';
import { HASH_A, HASH_B } from '../helpers/decider-spec.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { runMcm, type CliRun, type CliRunOptions } from '../helpers/cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MCM = join(ROOT, 'bin/mcm');
const GOLDEN = join(ROOT, 'fixtures/expected/basic.gitops');

type Run = CliRun;

const mcm = (args: string[], opts: CliRunOptions): Promise<CliRun> => runMcm(args, opts, MCM);

/** A cwd with `data/` holding fixtures/events/basic.jsonl (each event with its own actor and time). */
const basicDataDir = (t: TestContext) => {
  const cwd = tempDir(t);
  const dataDir = join(cwd, 'data');
  const db = openDatabase(join(dataDir, 'mcm.db'));
  const store = createSqliteEventStore({ db, snapshotEvery: 0 });
  for (const line of readFileSync(join(ROOT, 'fixtures/events/basic.jsonl'), 'utf8').split('\n').filter((l) => l !== '')) {
    const e = JSON.parse(line) as Recorded & { actor: EventEnvelope['actor'] };
    store.append([{ type: e.type, data: e.data } as Recorded], { actor: e.actor, at: e.at });
  }
  db.close();
  const run = (...args: string[]): Promise<Run> => mcm(args, { cwd, env: { MCM_DATA_DIR: dataDir } });
  return { cwd, dataDir, run };
};

/** The events of a data dir after `after`, read through the store. */
const eventsOf = (dataDir: string, after = 0): EventEnvelope[] => {
  const db = openDatabase(join(dataDir, 'mcm.db'));
  try {
    return createSqliteEventStore({ db, snapshotEvery: 0 }).read({ after });
  } finally {
    db.close();
  }
};

const readFiles = (dir: string): Record<string, string> =>
  Object.fromEntries(readdirSync(dir).sort().map((n) => [n, readFileSync(join(dir, n), 'utf8')]));

const edit = (path: string, change: (s: string) => string): void => writeFileSync(path, change(readFileSync(path, 'utf8')));

describe('mcm export', () => {
  it('writes the golden files for the basic log; a second export changes no file', async (t) => {
    const d = basicDataDir(t);
    const r = await d.run('export', '--dir', 'out');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `exported the configuration as of seq 39 to ${join(d.cwd, 'out')}: wrote settings.yaml, users.yaml, roles.yaml, acls.yaml, schemas.yaml, broker.yaml\n`);
    assert.deepEqual(readFiles(join(d.cwd, 'out')), readFiles(GOLDEN));
    const again = await d.run('export', '--dir', 'out');
    assert.match(again.stdout, /: no file changed\n$/);
  });

  it('exits 1 without an event log, and 64 without --dir', async (t) => {
    const cwd = tempDir(t);
    const none = await mcm(['export', '--dir', 'out'], { cwd, env: { MCM_DATA_DIR: join(cwd, 'nothing') } });
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^mcm export: no event log at /);
    assert.equal(existsSync(join(cwd, 'out')), false);
    const usage = await mcm(['export'], { cwd, env: { MCM_DATA_DIR: cwd } });
    assert.equal(usage.code, 64);
    assert.match(usage.stderr, /--dir DIR is required/);
  });
});

describe('mcm plan', () => {
  it('exits 0 and says so when the files match the log', async (t) => {
    const d = basicDataDir(t);
    const r = await d.run('plan', '--dir', GOLDEN);
    assert.deepEqual([r.code, r.stdout], [0, 'No changes: the configuration already matches.\n']);
  });

  it('exits 2 and prints who gains or loses what: users removed, password rotated, rules changed', async (t) => {
    const d = basicDataDir(t);
    const dir = join(d.cwd, 'gitops');
    cpSync(GOLDEN, dir, { recursive: true });
    edit(join(dir, 'users.yaml'), (s) => s
      .replace(/  - username: dave\n(    .*\n)+?    roles: \[\]\n/, '')
      .replace(HASH_A, HASH_B)
      .replace('    roles:\n      - sensors\n  - username: carol', '    roles: []\n  - username: carol'));
    edit(join(dir, 'roles.yaml'), (s) => s.replace('      - topic: sensors/#\n        access: read\n', '      - topic: plant/#\n        access: readwrite\n'));
    edit(join(dir, 'settings.yaml'), (s) => s.replace('allow_anonymous: true', 'allow_anonymous: false'));
    const before = eventsOf(d.dataDir).length;
    const r = await d.run('plan', '--dir', dir);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, [
      'Settings:\n  ~ allow_anonymous: true → false\n',
      'Roles:\n  ~ role "monitoring": + readwrite plant/#; - read sensors/#\n',
      'Users:\n  ~ user "alice": password rotated\n  ~ user "bob smith": roles -sensors\n  - user "dave"\n',
      'Access:\n' +
      '  user "alice" gains readwrite on plant/#; loses read on sensors/#\n' +
      '  user "bob smith" loses write on sensors/+/telemetry, deny on sensors/secret/#\n',
      'Plan: 0 to add, 4 to change, 1 to remove.\n',
    ].join('\n'));
    assert.equal(eventsOf(d.dataDir).length, before, 'plan changes nothing');

    const json = await d.run('plan', '--dir', dir, '--json');
    assert.equal(json.code, 2);
    const body = JSON.parse(json.stdout) as { seq: number; commands_count: number; changes: { type: string }[] };
    assert.equal(body.seq, 39);
    assert.equal(body.commands_count, 5, 'settings, role, password, grants, delete');
    assert.ok(body.changes.some((c) => c.type === 'user_removed'));
  });

  it('exits 1 listing every problem with file, line and path; shape first, then names and references', async (t) => {
    const d = basicDataDir(t);
    const dir = join(d.cwd, 'gitops');
    cpSync(GOLDEN, dir, { recursive: true });
    edit(join(dir, 'users.yaml'), (s) => s.replace('      - monitoring\n', '      - monitorin\n').replace('    disabled: true\n', '    disabled: yes please\n    colour: blue\n'));
    edit(join(dir, 'acls.yaml'), (s) => s.replace('topic: public/secret', 'topic: public/#/secret'));
    const shape = await d.run('plan', '--dir', dir);
    assert.deepEqual([shape.code, shape.stdout], [1, '']);
    assert.equal(shape.stderr, [
      `mcm plan: ${dir}: 2 problems, nothing was changed:`,
      '  users.yaml:21 /users/2/disabled: must be boolean',
      '  users.yaml:22 /users/2/colour: unknown key "colour"',
      '',
    ].join('\n'));

    edit(join(dir, 'users.yaml'), (s) => s.replace('    disabled: yes please\n    colour: blue\n', '    disabled: true\n'));
    const semantic = await d.run('plan', '--dir', dir);
    assert.equal(semantic.code, 1);
    assert.equal(semantic.stderr, [
      `mcm plan: ${dir}: 2 problems, nothing was changed:`,
      '  users.yaml:11 /users/0/roles/0: role "monitorin" is not defined in roles.yaml',
      "  acls.yaml:11 /acls/1/topic: '#' must be the last level on its own (MQTT-4.7.1-2)",
      '',
    ].join('\n'));
    assert.equal(eventsOf(d.dataDir).length, 39);
  });

  it('broker.yaml: a certificate this data dir does not hold is refused (exit 1, what to do); a plain listener is a change (exit 2)', async (t) => {
    const d = basicDataDir(t);
    const dir = join(d.cwd, 'gitops');
    cpSync(GOLDEN, dir, { recursive: true });
    const listener = '    - { name: edge, port: 8883, tls: { certificate: server } }\n';
    edit(join(dir, 'broker.yaml'), (s) => s.replace('  listeners: []\n', `  listeners:\n${listener}`));
    const missing = await d.run('plan', '--dir', dir);
    assert.deepEqual([missing.code, missing.stdout], [1, '']);
    assert.equal(missing.stderr, 'mcm: MCM_ERR_GITOPS_INVALID: the GitOps bundle has 1 problem, nothing was changed:\n' +
      '  broker.yaml /broker/listeners/0/tls/certificate: certificate "server" (listener edge) is not in this data dir: add it with mcm certs add\n');

    edit(join(dir, 'broker.yaml'), (s) => s.replace(listener, '    - { name: edge, port: 8883 }\n'));
    const plain = await d.run('plan', '--dir', dir);
    assert.equal(plain.code, 2, plain.stderr);
    assert.equal(plain.stdout, 'Broker configuration:\n  + listener edge (restart)\n' +
      '  the broker restarts to apply this: connected clients are disconnected and reconnect\n\nPlan: 1 to add, 0 to change, 0 to remove.\n');
    assert.equal(eventsOf(d.dataDir).length, 39);
  });

  it('exits 1 for a misspelt file name (it would read as "no users"), a missing dir and a dir without GitOps files', async (t) => {
    const d = basicDataDir(t);
    const dir = join(d.cwd, 'gitops');
    cpSync(GOLDEN, dir, { recursive: true });
    writeFileSync(join(dir, 'user.yaml'), 'version: 1\nusers: []\n');
    writeFileSync(join(dir, '.users.yaml.swp'), 'not yaml: [');
    writeFileSync(join(dir, 'README.md'), '# not ours\n');
    const typo = await d.run('plan', '--dir', dir);
    assert.equal(typo.code, 1);
    assert.equal(typo.stderr, `mcm plan: ${dir}: 1 problem, nothing was changed:\n  user.yaml: unknown GitOps file (expected settings.yaml, users.yaml, roles.yaml, acls.yaml, schemas.yaml, broker.yaml)\n`);

    const missing = join(d.cwd, 'no-such-dir');
    const gone = await d.run('plan', '--dir', missing);
    assert.deepEqual([gone.code, gone.stderr], [1, `mcm plan: ${missing}: 1 problem, nothing was changed:\n  ${missing}: is not a directory\n`]);

    const empty = await d.run('plan', '--dir', d.dataDir);
    assert.equal(empty.code, 1);
    assert.match(empty.stderr, /holds no GitOps files \(expected settings\.yaml, /);
  });
});

describe('mcm apply (no server running)', () => {
  it('refuses without --yes when there is no terminal to ask on, changing nothing', async (t) => {
    const d = basicDataDir(t);
    const dir = join(d.cwd, 'gitops');
    cpSync(GOLDEN, dir, { recursive: true });
    edit(join(dir, 'settings.yaml'), (s) => s.replace('hash_iterations: 1000', 'hash_iterations: 2000'));
    const r = await d.run('apply', '--dir', dir);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'Settings:\n  ~ hash_iterations: 1000 → 2000\n\nPlan: 0 to add, 1 to change, 0 to remove.\n');
    assert.match(r.stderr, /there is no terminal to confirm on; review the plan above and use --yes\n$/);
    assert.equal(eventsOf(d.dataDir).length, 39);
  });

  it('--yes appends the whole plan as one batch with actor {kind: gitops, id: dir:<DIR>}; a second apply has nothing to do', async (t) => {
    const d = basicDataDir(t);
    const dir = join(d.cwd, 'gitops');
    cpSync(GOLDEN, dir, { recursive: true });
    edit(join(dir, 'users.yaml'), (s) => s.replace(HASH_A, HASH_B).replace('description: greenhouse', 'description: glasshouse'));
    edit(join(dir, 'acls.yaml'), (s) => `${s}  - principal: user:dave\n    topic: dave/#\n    access: readwrite\n`);
    const r = await d.run('apply', '--dir', 'gitops', '--yes');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /~ user "alice": password rotated\n/);
    assert.match(r.stdout, /applied: 3 events appended as one batch \(seq 40-42\)\n$/);
    assert.match(r.stderr, /no MCM server is running on .*: the change is in the event log; .* when the server starts\n$/);
    const events = eventsOf(d.dataDir, 39);
    assert.deepEqual(events.map((e) => e.type), ['MqttUserPasswordChanged', 'MqttUserDescribed', 'AclRuleAdded']);
    assert.ok(events.every((e) => e.actor.kind === 'gitops' && e.actor.id === `dir:${dir}` && e.at === events[0]?.at));
    const again = await d.run('apply', '--dir', dir, '--yes');
    assert.deepEqual([again.code, again.stdout], [0, 'No changes: the configuration already matches.\n']);
  });

  it('refuses invalid files with exit 1 and every problem, appending nothing', async (t) => {
    const d = basicDataDir(t);
    const dir = join(d.cwd, 'gitops');
    cpSync(GOLDEN, dir, { recursive: true });
    edit(join(dir, 'roles.yaml'), (s) => s.replace('name: sensors', 'name: sensors!').replace('access: deny', 'access: nope'));
    const r = await d.run('apply', '--dir', dir, '--yes');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^mcm apply: .*: 1 problem, nothing was changed:\n {2}roles\.yaml:22 \/roles\/1\/rules\/1\/access: must be one of read, write, readwrite, deny\n$/);
    edit(join(dir, 'roles.yaml'), (s) => s.replace('access: nope', 'access: deny'));
    const r2 = await d.run('apply', '--dir', dir, '--yes');
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /roles\.yaml:15 \/roles\/1\/name: role name may contain only/);
    // sensors! is undefined, so the users granted "sensors" are problems too: all listed at once.
    assert.match(r2.stderr, /users\.yaml:\d+ \/users\/1\/roles\/0: role "sensors" is not defined in roles\.yaml/);
    assert.match(r2.stderr, /users\.yaml:\d+ \/users\/4\/roles\/0: role "sensors" is not defined in roles\.yaml/);
    assert.equal(eventsOf(d.dataDir).length, 39);
  });

  it('round trip: apply the golden dir into an empty data dir, export gives the same bytes', async (t) => {
    const cwd = tempDir(t);
    const env = { MCM_DATA_DIR: join(cwd, 'fresh') };
    const plan = await mcm(['plan', '--dir', GOLDEN], { cwd, env });
    assert.equal(plan.code, 2);
    assert.match(plan.stderr, /no event log at .* yet: planning against an empty configuration/);
    assert.equal(existsSync(join(cwd, 'fresh')), false, 'plan creates nothing');
    const apply = await mcm(['apply', '--dir', GOLDEN, '--yes'], { cwd, env });
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stderr, /created a new event log at /);
    const exported = await mcm(['export', '--dir', 'out'], { cwd, env });
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(readFiles(join(cwd, 'out')), readFiles(GOLDEN));
  });

  it('on a terminal asks first: anything but "yes" cancels and changes nothing', async (t) => {
    const d = basicDataDir(t);
    const dir = join(d.cwd, 'gitops');
    cpSync(GOLDEN, dir, { recursive: true });
    edit(join(dir, 'settings.yaml'), (s) => s.replace('allow_anonymous: true', 'allow_anonymous: false'));
    const ask = async (answer: boolean) => {
      const out: string[] = [];
      const err: string[] = [];
      const questions: string[] = [];
      const apply = createApplyCommand({ interactive: () => true, confirm: async (q) => { questions.push(q); return answer; } });
      const code = await runCli(['apply', '--dir', dir], {
        stdout: (x) => { out.push(x); }, stderr: (x) => { err.push(x); }, env: { MCM_DATA_DIR: d.dataDir }, cwd: d.cwd,
      }, [apply]);
      return { code, stdout: out.join(''), stderr: err.join(''), questions };
    };
    const no = await ask(false);
    assert.equal(no.code, 1);
    assert.match(no.stdout, /~ allow_anonymous: true → false\n/);
    assert.deepEqual(no.questions, ['\nApply these changes? Only "yes" is accepted: ']);
    assert.equal(no.stderr, 'mcm apply: cancelled, nothing was changed\n');
    assert.equal(eventsOf(d.dataDir).length, 39);
    const yes = await ask(true);
    assert.equal(yes.code, 0, yes.stderr);
    assert.deepEqual(eventsOf(d.dataDir, 39).map((e) => [e.type, e.actor.kind]), [['AnonymousAccessChanged', 'gitops']]);
  });
});
