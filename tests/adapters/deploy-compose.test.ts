import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig } from '../../adapters/config/load.ts';
import { requireMosquitto } from '../helpers/mosquitto.ts';
import { freePort } from '../helpers/ports.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

type Service = {
  image?: string; build?: unknown; init?: boolean; pid?: string; command?: string[] | string;
  volumes?: string[]; ports?: string[]; environment?: Record<string, string>;
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] }; cap_add?: string[]; cap_drop?: string[];
};
type Compose = { services: Record<string, Service>; volumes: Record<string, unknown> };

const compose = parse(read('compose.yaml')) as Compose;
const mosquitto = compose.services['mosquitto'];
const mcm = compose.services['mcm'];

type Mount = { source: string; target: string; readOnly: boolean; named: boolean };
const mounts = (s: Service | undefined): Mount[] => (s?.volumes ?? []).map((v) => {
  const [source = '', target = '', mode] = v.split(':');
  return { source, target, readOnly: mode === 'ro', named: !source.startsWith('.') && !source.startsWith('/') };
});

/** The mount of `s` under which `path` lives, and the path relative to it. */
const mountOf = (s: Service | undefined, path: string): { mount: Mount; rel: string } | null => {
  for (const m of mounts(s)) {
    if (path === m.target || path.startsWith(`${m.target}/`)) return { mount: m, rel: posix.relative(m.target, path) };
  }
  return null;
};

/** Where a file MCM names (in its container) appears in the broker's container, through a shared volume. */
const inBroker = (mcmPath: string): string | null => {
  const at = mountOf(mcm, mcmPath);
  if (!at || !at.mount.named) return null;
  const there = mounts(mosquitto).find((m) => m.source === at.mount.source);
  return there ? posix.join(there.target, at.rel) : null;
};

/** `option value` lines of a mosquitto.conf ('#' only in column 1, reference §7). */
const confOptions = (text: string): Map<string, string[]> => {
  const options = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [key = '', ...rest] = line.split(' ');
    options.set(key, [...(options.get(key) ?? []), rest.join(' ')]);
  }
  return options;
};

const bind = (s: Service | undefined, target: string): Mount | undefined => mounts(s).find((m) => m.target === target);

// The MCM config the compose file mounts, loaded exactly as the server would load it.
const mcmConfigTarget = mcm?.environment?.['MCM_CONFIG'] ?? '';
const mcmConfigSource = bind(mcm, mcmConfigTarget)?.source ?? '';
const { config: mcmConfig } = loadConfig({ file: join(ROOT, mcmConfigSource), env: {}, cwd: ROOT, mosquittoBinary: null });
const brokerConfSource = bind(mosquitto, '/mosquitto/config/mosquitto.conf')?.source ?? '';
const brokerConf = confOptions(read(brokerConfSource));
const one = (key: string): string => {
  const v = brokerConf.get(key);
  assert.equal(v?.length, 1, `mosquitto.conf sets ${key} exactly once`);
  return v![0]!;
};

describe('compose.yaml wiring', () => {
  it('runs eclipse-mosquitto:2 under an init, and MCM built from the Dockerfile in the broker\'s PID namespace', () => {
    assert.deepEqual(Object.keys(compose.services).sort(), ['mcm', 'mosquitto']);
    assert.match(mosquitto?.image ?? '', /^eclipse-mosquitto:2(\.|$)/);
    // mosquitto must not be PID 1: the signal reloader refuses pid 1 (adapters/mosquitto/reloaders.ts).
    assert.equal(mosquitto?.init, true);
    assert.ok(mcm?.build, 'mcm is built from the repository (Dockerfile)');
    assert.equal(mcm?.pid, 'service:mosquitto');
    const deps = mcm?.depends_on;
    assert.ok(deps && !Array.isArray(deps) && deps['mosquitto']?.condition === 'service_healthy', 'MCM starts once the broker runs');
  });

  it('reloads by signal without the Docker socket, with only the capabilities it needs', () => {
    for (const s of [mcm, mosquitto]) assert.ok(!mounts(s).some((m) => m.source.includes('docker.sock')), 'no Docker socket mounted');
    assert.equal(mcmConfig.mosquitto.mode, 'external');
    assert.equal(mcmConfig.mosquitto.reload.strategy, 'signal');
    assert.deepEqual(mcm?.cap_drop, ['ALL']);
    assert.ok(mcm?.cap_add?.includes('KILL'), 'CAP_KILL: signal the broker running as another uid');
  });

  it('every named volume is declared; the config files are mounted read-only from the repository', () => {
    for (const m of [...mounts(mcm), ...mounts(mosquitto)]) {
      if (m.named) assert.ok(m.source in compose.volumes, `volume ${m.source} is declared`);
      else {
        assert.ok(existsSync(join(ROOT, m.source)), `${m.source} exists in the repository`);
        assert.equal(m.readOnly, true, `${m.source} is mounted read-only`);
      }
    }
    assert.equal(mcmConfigSource, './deploy/mcm.compose.yaml');
    assert.equal(brokerConfSource, './deploy/mosquitto/mosquitto.conf');
  });

  it('the password and ACL files MCM writes are the ones the broker reads, through one shared volume', () => {
    const { password_file: pw, acl_file: acl } = mcmConfig.mosquitto;
    assert.ok(pw && acl);
    assert.equal(inBroker(pw), one('password_file'));
    assert.equal(inBroker(acl), one('acl_file'));
    assert.equal(mountOf(mcm, pw)?.mount.source, mountOf(mcm, acl)?.mount.source);
    assert.equal(mountOf(mcm, pw)?.mount.readOnly, false, 'MCM can write the shared volume');
  });

  it('the pid file the broker writes is the one MCM reads, and the broker healthcheck watches it', () => {
    const pidFile = mcmConfig.mosquitto.reload.pid_file;
    assert.ok(pidFile);
    assert.equal(inBroker(pidFile), one('pid_file'));
    assert.ok((mosquitto?.healthcheck?.test ?? []).join(' ').includes(one('pid_file')), 'healthcheck reads the pid file');
  });

  it('the broker\'s start script prepares exactly those paths (owner, setgid dir, pid dir)', () => {
    const script = [mosquitto?.command ?? []].flat().join('\n');
    for (const p of [one('password_file'), one('acl_file'), posix.dirname(one('pid_file')), posix.dirname(one('password_file'))]) {
      assert.ok(script.includes(p), `the start script handles ${p}`);
    }
    assert.ok(script.includes(`-c /mosquitto/config/mosquitto.conf`));
    assert.match(script, /exec \/usr\/sbin\/mosquitto/, 'exec: mosquitto replaces the shell and keeps its pid');
  });

  it('MCM\'s data dir is its own persistent volume, not the one the broker can write', () => {
    const at = mountOf(mcm, mcmConfig.data_dir);
    assert.ok(at?.mount.named, 'data_dir is on a named volume');
    assert.ok(!mounts(mosquitto).some((m) => m.source === at?.mount.source), 'the broker does not mount MCM\'s data');
  });

  it('MCM reaches the broker by its service name on the port of its listener', () => {
    assert.equal(mcmConfig.mqtt.host, 'mosquitto');
    const [port] = one('listener').split(' ');
    assert.equal(String(mcmConfig.mqtt.port), port);
    assert.ok((mosquitto?.ports ?? []).some((p) => p.endsWith(`:${port}`)), 'the listener port is published');
    assert.equal(one('allow_anonymous'), 'false');
    assert.equal(one('per_listener_settings'), 'false');
  });

  it('the broker config starts a real Mosquitto 2.0, which writes its pid to pid_file [reference §7]', { timeout: 30_000 }, async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const dir = tempDir(t, 'mcm-compose-conf-');
    const port = await freePort();
    // The container paths moved under the temp dir, the listener on a free loopback port.
    const text = read(brokerConfSource)
      .replaceAll('/mosquitto/', `${dir}/mosquitto/`)
      .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
      .replace(/^per_listener_settings false$/m, `per_listener_settings false${process.getuid?.() === 0 ? '\nuser root' : ''}`);
    const at = (p: string): string => p.replace('/mosquitto/', `${dir}/mosquitto/`);
    for (const d of [posix.dirname(at(one('pid_file'))), at(one('persistence_location'))]) mkdirSync(d, { recursive: true });
    writeFileSync(at(one('password_file')), '');
    writeFileSync(at(one('acl_file')), '');
    const confPath = join(dir, 'mosquitto.conf');
    writeFileSync(confPath, text);
    const child = spawn(bin, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d: Buffer) => { log += d.toString(); });
    t.after(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    const deadline = Date.now() + 10_000;
    while (!/mosquitto version \S+ running/.test(log) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.match(log, /mosquitto version \S+ running/, log);
    assert.equal(readFileSync(at(one('pid_file')), 'utf8').trim(), String(child.pid));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  it('runs the server on the base image\'s Node 24 with type stripping, from the copied sources', () => {
    assert.match(dockerfile, /^FROM node:24-slim$/m);
    assert.match(dockerfile, /^ENTRYPOINT \["node", "adapters\/cli\/main\.ts"\]$/m);
    assert.match(dockerfile, /^CMD \["server"\]$/m);
    for (const dir of ['core', 'projections', 'adapters', 'bin']) assert.match(dockerfile, new RegExp(`^COPY ${dir} `, 'm'), dir);
    assert.match(dockerfile, /npm ci --omit=dev/);
    // The compose config's directories exist in the image, so the read-only root file system is fine.
    assert.ok(dockerfile.includes(mcmConfig.data_dir));
  });
  it('.dockerignore keeps node_modules, data and the git history out of the build context', () => {
    const ignored = read('.dockerignore').split('\n');
    for (const p of ['node_modules', 'data', '.git']) assert.ok(ignored.includes(p), p);
  });
});

describe('systemd deployment files', () => {
  const unit = read('deploy/systemd/mcm.service');
  const directive = (name: string): string[] => unit.split('\n').filter((l) => l.startsWith(`${name}=`)).map((l) => l.slice(name.length + 1));
  const { config } = loadConfig({ file: join(ROOT, 'deploy/systemd/mcm.yaml'), env: {}, cwd: ROOT, mosquittoBinary: null });

  it('runs `mcm server` through the bin/mcm shim (Node 24) with the config it ships', () => {
    assert.deepEqual(directive('ExecStart'), ['/opt/mcm/bin/mcm server']);
    assert.deepEqual(directive('Environment'), ['MCM_CONFIG=/etc/mcm/mcm.yaml']);
    assert.equal(config.mosquitto.mode, 'external');
    assert.equal(config.mosquitto.reload.strategy, 'command');
    assert.deepEqual(config.mosquitto.reload.command.slice(1), ['reload', 'mosquitto.service']);
  });

  it('is hardened, and may write exactly the data dir and the broker files\' directory', () => {
    assert.deepEqual(directive('NoNewPrivileges'), ['yes']);
    assert.deepEqual(directive('ProtectSystem'), ['strict']);
    const writable = directive('ReadWritePaths').join(' ').split(' ');
    assert.deepEqual(writable.sort(), [config.data_dir, dirname(config.mosquitto.password_file!)].sort());
    assert.equal(dirname(config.mosquitto.acl_file!), dirname(config.mosquitto.password_file!));
    assert.deepEqual(directive('StateDirectory'), [posix.basename(config.data_dir)]);
  });

  it('the broker snippet names the files MCM writes; the polkit rule allows exactly that reload', () => {
    const snippet = confOptions(read('deploy/systemd/mosquitto-mcm.conf'));
    assert.deepEqual(snippet.get('password_file'), [config.mosquitto.password_file]);
    assert.deepEqual(snippet.get('acl_file'), [config.mosquitto.acl_file]);
    const rule = read('deploy/systemd/mcm-reload-mosquitto.rules');
    assert.match(rule, /action\.lookup\("unit"\) === "mosquitto\.service"/);
    assert.match(rule, /action\.lookup\("verb"\) === "reload"/);
    assert.match(rule, new RegExp(`subject\\.user === "${directive('User')[0]}"`));
  });
});
