/**
 * The bundled `mcm` (scripts/build-server.ts, issue 14: the faster start). bin/mcm runs it only
 * while nothing it was built from is newer, and the bundle does what the sources do: a supervised
 * broker applied and probed (MQTT loaded on first use), the API's OpenAPI validation, the web UI's
 * files, and the log reader's worker thread — each found from the bundle's own place.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildServer, SERVER_BUNDLE } from '../../scripts/build-server.ts';
import { runMcm } from '../helpers/cli.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { testDataDir } from '../helpers/mcm-server.ts';
import { freePort } from '../helpers/ports.ts';
import { stopServerProcess } from '../helpers/stop-process.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(ROOT, 'node_modules', '.bin', 'node');

test('bin/mcm runs the bundle while it is the newest, the sources after an edit or with MCM_NO_BUNDLE=1', async (t) => {
  // A project of its own: bin/mcm, the real node_modules, and two entry points that say who they are.
  const root = tempDir(t);
  mkdirSync(join(root, 'bin'));
  cpSync(join(ROOT, 'bin', 'mcm'), join(root, 'bin', 'mcm'));
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  for (const dir of ['adapters/cli', 'core', 'projections', 'dist/server']) mkdirSync(join(root, dir), { recursive: true });
  const source = join(root, 'adapters', 'cli', 'main.ts');
  const bundle = join(root, 'dist', 'server', SERVER_BUNDLE);
  writeFileSync(source, "console.log('sources');\n");
  writeFileSync(join(root, 'core', 'state.ts'), 'export {};\n');
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  writeFileSync(bundle, "console.log('bundle');\n");
  const age = (path: string, s: number): void => utimesSync(path, new Date(Date.now() - s * 1000), new Date(Date.now() - s * 1000));
  for (const p of [source, join(root, 'core', 'state.ts'), join(root, 'core'), join(root, 'adapters'), join(root, 'adapters', 'cli'), join(root, 'projections'), join(root, 'package-lock.json')]) age(p, 60);
  age(bundle, 10);
  const run = async (env: Record<string, string> = {}): Promise<string> => {
    const r = await runMcm(['version'], { cwd: root, env }, join(root, 'bin', 'mcm'));
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  assert.equal(await run(), 'bundle');
  assert.equal(await run({ MCM_NO_BUNDLE: '1' }), 'sources');
  age(join(root, 'core', 'state.ts'), 1); // an edit after the build
  assert.equal(await run(), 'sources');
  age(join(root, 'core', 'state.ts'), 60);
  age(join(root, 'package-lock.json'), 1); // an npm install after the build
  assert.equal(await run(), 'sources');
});

test('the bundle serves: supervised broker applied, OpenAPI validation, the web UI, the log reader worker', async (t) => {
  const bin = requireMosquitto(t);
  if (!bin) return;
  // Two directories below the root, as the real dist/server is.
  const out = join(ROOT, 'dist', `test-${process.pid}-${Date.now()}`);
  t.after(() => rmSync(out, { recursive: true, force: true }));
  await buildServer(out);
  const dataDir = testDataDir(t);
  const httpPort = await freePort();
  const password = 'bundle-Pa55word-1';
  const child = spawn(NODE, [join(out, SERVER_BUNDLE), 'server'], {
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dataDir, MCM_LOG_FORMAT: 'json',
      MCM_DATA_DIR: dataDir, MCM_HTTP_PORT: String(httpPort), MCM_MQTT_PORT: String(await freePort()),
      MCM_MOSQUITTO_MODE: 'supervised', MCM_ADMIN_PASSWORD: password,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => stopServerProcess(child, dataDir));
  let log = '';
  child.stdout.on('data', (d: Buffer) => { log += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { log += d.toString(); });
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`${url}/readyz`).then((r) => r.status, () => 0);
    if (ready === 200) break;
    assert.ok(child.exitCode === null, `the bundled server exited:\n${log}`);
    assert.ok(Date.now() < deadline, `not ready within 60 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Ready means the first apply was probed over MQTT: the broker runs MCM's files.
  assert.equal(((await (await fetch(`${url}/readyz`)).json()) as { status: string }).status, 'ready');

  // docs/openapi.yaml found and compiled: a bad body is refused with its code.
  const bad = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"username": 5}' });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'MCM_ERR_VALIDATION');

  const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password }) });
  assert.equal(login.status, 200, await login.clone().text());
  const { token } = (await login.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };

  // The chain verified on the log reader's worker thread (dist/…/log-reader-worker.mjs).
  const verify = await fetch(`${url}/api/v1/events/verify`, { headers: auth });
  assert.equal(verify.status, 200, await verify.clone().text());
  assert.equal(((await verify.json()) as { ok: boolean }).ok, true);

  // The web UI from ui/dist (npm run setup builds it; without it, the 503 that says how).
  const ui = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
  if (existsSync(join(ROOT, 'ui', 'dist', 'index.html'))) {
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /<!doctype html>/i);
  } else {
    assert.equal(ui.status, 503);
  }

  child.kill('SIGTERM');
  assert.equal(await exited, 0, log);
});
