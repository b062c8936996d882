/**
 * ui/data/import-model.ts: the body of POST /import for each source, the plan read back, refused
 * files with every bad line (nothing changed), a stale plan (412), the words the screen shows,
 * and the adoption banner — the requests run against the real HTTP app (createTestApp) with its
 * real import route, core planner and event store.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ImportPlan, ImportProblem as CoreProblem } from '../../core/import/import-types.ts';
import { createMosquittoHasher } from '../../adapters/mosquitto/password-hash.ts';
import { createApiClient } from '../../ui/data/api-client.ts';
import { parseApplyStatus } from '../../ui/data/access-apply.ts';
import {
  adoptionBanner, applyWouldDo, confirmText, differencesNote, groupWarnings, importRequest, parsePlan, parseProblems, runImport,
  sourceProblem, summaryRows, where, type ImportPlanView, type ImportProblem, type ImportSummary,
} from '../../ui/data/import-model.ts';
import { createTestApp, type TestApp } from '../helpers/http.ts';

/** The UI's shapes accept what the core produces (the compiler checks; the UI never imports core). */
export const shapesAgree = (p: ImportPlan, problem: CoreProblem): void => {
  const summary: ImportSummary = p.summary;
  const view: Pick<ImportPlanView, 'changes' | 'differences' | 'warnings' | 'adopt' | 'differences_total'> = {
    changes: p.changes, differences: [...p.differences], warnings: [...p.warnings], adopt: [...p.adopt], differences_total: p.differences_total,
  };
  const pr: ImportProblem = problem;
  void [summary, view, pr];
};

const SUMMARY: ImportSummary = {
  users_in_files: 3, rules_in_files: 4, users_created: 2, users_password_changed: 0, users_enabled: 0, users_disabled: 1,
  users_without_password: 0, rules_added: 4, rules_removed: 0, roles_revoked: 0, allow_anonymous_changed: false,
};

const planOf = (over: Partial<ImportPlanView> = {}): ImportPlanView => ({
  seq: 7, changes: true, summary: SUMMARY, differences: [], differences_total: 0, warnings: [], adopt: [], broker_version: '2.0.11', ...over,
});

describe('ui/data import-model (pure)', () => {
  it('builds the request: configured sends no contents; pasted sends only the files given; apply carries the seq', () => {
    assert.deepEqual(importRequest('plan', { kind: 'configured' }), { mode: 'plan' });
    assert.deepEqual(importRequest('apply', { kind: 'configured' }, 12), { mode: 'apply', expected_seq: 12 });
    assert.deepEqual(importRequest('plan', { kind: 'pasted', passwordFile: 'a:$6$x$y\n', aclFile: '  \n' }), { mode: 'plan', password_file: 'a:$6$x$y\n' });
    assert.deepEqual(importRequest('apply', { kind: 'pasted', passwordFile: 'p', aclFile: 'topic a' }, 3), { mode: 'apply', password_file: 'p', acl_file: 'topic a', expected_seq: 3 });
    assert.equal(sourceProblem({ kind: 'configured' }), null);
    assert.match(sourceProblem({ kind: 'pasted', passwordFile: ' ', aclFile: '' }) ?? '', /paste or upload/);
    assert.equal(sourceProblem({ kind: 'pasted', passwordFile: '', aclFile: 'topic x' }), null);
  });

  it('reads a plan, refuses what is not one, and sorts refused lines by file then line', () => {
    assert.equal(parsePlan(null), null);
    assert.equal(parsePlan({ seq: 'x', changes: true, summary: {} }), null);
    const p = parsePlan({ seq: 3, changes: false, summary: { users_in_files: 2 }, warnings: [{ file: 'acl_file', line: 4, code: 'c', message: 'm' }, 'junk'] });
    assert.ok(p);
    assert.equal(p.summary.users_in_files, 2);
    assert.equal(p.summary.rules_added, 0);
    assert.deepEqual(p.warnings, [{ file: 'acl_file', line: 4, code: 'c', message: 'm' }]);
    assert.equal(p.broker_version, null);
    assert.deepEqual(parseProblems([{ file: 'acl_file', line: 2, message: 'b' }, { file: 'password_file', line: 9, message: 'a' }, { file: 'acl_file', line: 1, message: 'c' }]).map((x) => `${x.file}:${x.line}`),
      ['password_file:9', 'acl_file:1', 'acl_file:2']);
  });

  it('says what applying would do, in counts and in the confirmation', () => {
    assert.equal(applyWouldDo(planOf()), 'changes');
    assert.equal(applyWouldDo(planOf({ changes: false, adopt: [{ file: 'acl_file', sha256: 'ab', path: '/etc/m/acl' }] })), 'adopt-only');
    assert.equal(applyWouldDo(planOf({ changes: false })), 'nothing');
    const rows = summaryRows(SUMMARY);
    assert.equal(rows.length, 11);
    assert.deepEqual(rows.find((r) => r.key === 'users_disabled'), { key: 'users_disabled', label: 'MCM users to disable (not in the files)', value: '1', tone: 'warn' });
    assert.equal(rows.find((r) => r.key === 'users_created')?.tone, '');
    assert.equal(summaryRows({ ...SUMMARY, users_in_files: 100_000 })[0]?.value, '100,000');
    const c = confirmText(planOf({ adopt: [{ file: 'password_file', sha256: 'ab', path: '/etc/mosquitto/passwd' }] }));
    assert.equal(c.title, 'Apply the import?');
    assert.match(c.message, /create 2 users, disable 1 MCM user that the files do not have, add 4 rules/);
    assert.match(c.message, /\/etc\/mosquitto\/passwd/);
    assert.match(c.message, /\.pre-mcm/);
    assert.match(confirmText(planOf({ changes: false, summary: { ...SUMMARY, users_created: 0, users_disabled: 0, rules_added: 0 } })).message, /only the adoption/);
    assert.equal(differencesNote(planOf({ differences: [{ file: 'acl_file', text: 'x' }], differences_total: 1234 })), 'Showing the first 1 of 1,234 differences.');
    assert.equal(differencesNote(planOf()), '');
  });

  it('groups every warning by code, in file and line order', () => {
    const g = groupWarnings([
      { file: 'acl_file', line: 9, code: 'pattern_substitution_2_1', message: 'a' },
      { file: 'password_file', line: 3, code: 'hash_unreadable_by_2_0', message: 'b' },
      { file: 'acl_file', line: 2, code: 'pattern_substitution_2_1', message: 'c' },
      { file: 'password_file', code: 'comment_dropped', message: 'd' },
    ]);
    assert.deepEqual(g.map((x) => [x.code, x.count]), [['pattern_substitution_2_1', 2], ['hash_unreadable_by_2_0', 1], ['comment_dropped', 1]]);
    assert.deepEqual(g[0]?.items.map((w) => w.line), [2, 9]);
    assert.equal(where({ file: 'acl_file', line: 2 }), 'ACL file, line 2');
    assert.equal(where({ file: 'password_file' }), 'Password file');
  });

  it('the banner: only with adoption_required, with the way out for the role', () => {
    const required = parseApplyStatus({
      desired_seq: 3, applied_seq: 0, state: 'adoption_required', last: null, broker: { mode: 'external', up: true, reload: 'signal', version: '2.0.11' },
      adoption: { files: [{ file: 'password_file', path: '/etc/mosquitto/passwd', sha256: 'ab' }], message: 'm' },
    });
    assert.ok(required);
    assert.equal(required.broker.version, '2.0.11');
    const admin = adoptionBanner(required.adoption?.files ?? null, true);
    assert.deepEqual(admin?.files, [{ label: 'Password file', path: '/etc/mosquitto/passwd' }]);
    assert.equal(admin?.action, 'import');
    assert.equal(adoptionBanner(required.adoption?.files ?? null, false)?.action, 'ask-admin');
    assert.equal(adoptionBanner(null, true), null);
  });
});

const apiAs = async (h: TestApp, role: 'operator' | 'admin') => {
  const token = await h.tokenFor(role);
  return createApiClient({ fetch, origin: h.baseUrl, token: () => token });
};

/** An operator's hand-made files: two devices with real `$7$` hashes, an acl with a pattern, a deny and comments. */
const handMade = async () => {
  const hasher = createMosquittoHasher();
  const passwordFile = `sensor-1:${await hasher.hash('one', 1000)}\nsensor-2:${await hasher.hash('two', 1000)}\n`;
  const aclFile = '# plant\n\npattern read plant/cmd/%u\n\nuser sensor-1\ntopic write plant/line1/#\n\nuser sensor-2\ntopic readwrite plant/line2/#\ntopic deny plant/line2/secret\n';
  return { passwordFile, aclFile };
};

describe('ui/data import-model against the real HTTP app', () => {
  it('pasted files: plan (nothing appended), apply with the plan\'s seq, then planning again finds nothing', async (t) => {
    const h = await createTestApp(t);
    const api = await apiAs(h, 'admin');
    const source = { kind: 'pasted' as const, ...(await handMade()) };
    const head = h.eventCount();
    const planned = await runImport(api, importRequest('plan', source));
    assert.equal(planned.kind, 'ok');
    if (planned.kind !== 'ok') return;
    assert.equal(planned.writeSeq, null);
    assert.equal(h.eventCount(), head, 'a plan appends nothing');
    const p = planned.plan;
    assert.equal(p.seq, head);
    assert.equal(p.changes, true);
    assert.equal(p.summary.users_in_files, 2);
    assert.equal(p.summary.users_created, 2);
    assert.ok(p.summary.rules_in_files >= 3);
    assert.ok(p.differences.length > 0 && p.differences_total >= p.differences.length);
    assert.ok(p.warnings.length > 0, 'comments and blank lines are not kept: warned');
    assert.ok(p.warnings.every((w) => w.code !== '' && w.message !== ''));
    assert.equal(p.broker_version, null, 'no apply loop here: version unknown');
    assert.deepEqual(p.adopt.map((a) => [a.file, a.path]), [['password_file', null], ['acl_file', null]]);
    assert.equal(applyWouldDo(p), 'changes');
    assert.match(confirmText(p).message, /create 2 users/);

    const applied = await runImport(api, importRequest('apply', source, p.seq));
    assert.equal(applied.kind, 'ok');
    if (applied.kind !== 'ok') return;
    assert.ok((applied.plan.events_count ?? 0) > 0);
    assert.equal(h.eventCount(), head + (applied.plan.events_count ?? 0));
    assert.equal(applied.writeSeq, h.eventCount(), 'the apply to follow is the new head');
    const users = await api.get<{ items: { username: string }[] }>('/mqtt-users');
    assert.deepEqual(users.items.map((u) => u.username).sort(), ['sensor-1', 'sensor-2']);

    const again = await runImport(api, importRequest('plan', source));
    assert.equal(again.kind, 'ok');
    if (again.kind === 'ok') assert.equal(applyWouldDo(again.plan), 'nothing', 'a fixpoint');
  });

  it('malformed files: every bad line with its file and line number, and nothing appended', async (t) => {
    const h = await createTestApp(t);
    const api = await apiAs(h, 'admin');
    const { passwordFile } = await handMade();
    const head = h.eventCount();
    const out = await runImport(api, importRequest('plan', {
      kind: 'pasted',
      passwordFile: `${passwordFile}plain-user:secret\n`,
      aclFile: 'user sensor-1\ntopic\tread plant/#\nTopic read x\n',
    }));
    assert.equal(out.kind, 'invalid');
    if (out.kind !== 'invalid') return;
    assert.ok(out.problems.some((x) => x.file === 'password_file' && x.line === 3), JSON.stringify(out.problems));
    assert.ok(out.problems.some((x) => x.file === 'acl_file' && x.line === 2), JSON.stringify(out.problems));
    assert.ok(out.problems.some((x) => x.file === 'acl_file' && x.line === 3), JSON.stringify(out.problems));
    assert.ok(out.problems.every((x) => x.message !== ''));
    const files = out.problems.map((x) => x.file);
    assert.ok(files.lastIndexOf('password_file') < files.indexOf('acl_file'), 'the password file\'s lines first, then the ACL file\'s');
    // Apply of the same refuses the same way.
    const apply = await runImport(api, importRequest('apply', { kind: 'pasted', passwordFile: 'plain-user:secret\n', aclFile: '' }, head));
    assert.equal(apply.kind, 'invalid');
    assert.equal(h.eventCount(), head, 'nothing changed');
  });

  it('a stale plan is refused (412) and changes nothing; an operator may not import', async (t) => {
    const h = await createTestApp(t);
    const api = await apiAs(h, 'admin');
    const source = { kind: 'pasted' as const, ...(await handMade()) };
    const planned = await runImport(api, importRequest('plan', source));
    assert.equal(planned.kind, 'ok');
    if (planned.kind !== 'ok') return;
    await api.post('/mqtt-users', { username: 'someone-else' });
    const head = h.eventCount();
    const stale = await runImport(api, importRequest('apply', source, planned.plan.seq));
    assert.equal(stale.kind, 'stale');
    assert.equal(h.eventCount(), head);
    const op = await runImport(await apiAs(h, 'operator'), importRequest('plan', source));
    assert.equal(op.kind, 'error');
    if (op.kind === 'error') assert.equal(op.status, 403);
  });

  it('the configured files: the server reads them; the plan names their paths to adopt', async (t) => {
    const files = await handMade();
    let dir = '';
    const h = await createTestApp(t, {
      config: (c) => {
        dir = c.data_dir;
        c.mosquitto.mode = 'external';
        c.mosquitto.password_file = join(dir, 'passwd');
        c.mosquitto.acl_file = join(dir, 'acl');
      },
    });
    writeFileSync(join(dir, 'passwd'), files.passwordFile);
    writeFileSync(join(dir, 'acl'), files.aclFile);
    const api = await apiAs(h, 'admin');
    const out = await runImport(api, importRequest('plan', { kind: 'configured' }));
    assert.equal(out.kind, 'ok');
    if (out.kind !== 'ok') return;
    assert.equal(out.plan.summary.users_created, 2);
    assert.deepEqual(out.plan.adopt.map((a) => a.path), [join(dir, 'passwd'), join(dir, 'acl')]);
    assert.match(confirmText(out.plan).message, new RegExp(`${join(dir, 'passwd').replaceAll('/', '\\/')}`));
  });
});
