/**
 * Can the configured reload strategy reach the broker (DESIGN §6)? Nothing is reloaded: a
 * signal check sends signal 0 (permission and existence only), a command is looked up but not
 * run, and the Docker Engine API is asked about the container, not told to signal it.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Config } from '../config/config.ts';
import { findExecutable } from '../config/defaults.ts';
import { fail, pass, warn, type CheckResult } from './check-result.ts';

const TIMEOUT_MS = 5000;

const checkSignal = (pidFile: string | null): CheckResult => {
  if (!pidFile) return fail('reload', 'reload strategy "signal" has no pid_file', 'set mosquitto.reload.pid_file to the pid_file of the broker\'s mosquitto.conf');
  let text: string;
  try {
    text = readFileSync(pidFile, 'utf8').trim();
  } catch (e) {
    return fail('reload', `signal: cannot read the pid file ${pidFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      `is the broker running with "pid_file ${pidFile}" in its mosquitto.conf, and can MCM read it?`);
  }
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 1) {
    return fail('reload', `signal: ${pidFile} does not hold a usable pid (got ${JSON.stringify(text.slice(0, 40))})`,
      pid === 1 ? 'the broker is PID 1 of its namespace: run it under an init (compose: init: true) so it gets its own pid' : 'restart the broker so it rewrites its pid file');
  }
  try {
    process.kill(pid, 0);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPERM') return fail('reload', `signal: not allowed to signal pid ${pid} (from ${pidFile})`, 'run MCM as the broker\'s user or root (in containers: CAP_KILL), or use reload strategy "command"');
    return fail('reload', `signal: no process ${pid} (from ${pidFile}): the broker is not running or the pid file is stale`,
      'start the broker; in containers MCM must share the broker\'s PID namespace (compose: pid: "service:mosquitto")');
  }
  return pass('reload', `signal: pid ${pid} (from ${pidFile}) is alive and MCM may signal it`);
};

const checkCommand = (argv: readonly string[], env: NodeJS.ProcessEnv): CheckResult => {
  const [file] = argv;
  if (!file) return fail('reload', 'reload strategy "command" has an empty command', 'set mosquitto.reload.command, e.g. [systemctl, reload, mosquitto]');
  const found = findExecutable(file, env['PATH'], []);
  if (!found) return fail('reload', `command: ${file} not found${file.includes('/') ? '' : ' on PATH'}`, 'give the command\'s absolute path in mosquitto.reload.command (it runs without a shell)');
  return pass('reload', `command: ${[found, ...argv.slice(1)].join(' ')} (found; not run, it would reload the broker)`);
};

const dockerGet = (socket: string, path: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, method: 'GET', path, headers: { host: 'docker' }, timeout: TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });

const checkDocker = async (socket: string, container: string | null): Promise<CheckResult> => {
  if (!container) return fail('reload', 'reload strategy "docker" has no container', 'set mosquitto.reload.docker.container');
  try {
    const ping = await dockerGet(socket, '/_ping');
    if (ping.status !== 200) return fail('reload', `docker: ${socket} answered /_ping with HTTP ${ping.status}`, 'is that the Docker Engine API socket?');
    const info = await dockerGet(socket, `/containers/${encodeURIComponent(container)}/json`);
    if (info.status === 404) return fail('reload', `docker: no container "${container}"`, 'set mosquitto.reload.docker.container to the broker container\'s name or id');
    if (info.status !== 200) return fail('reload', `docker: inspecting "${container}" gave HTTP ${info.status}`, 'check the Docker Engine API');
    const running = (JSON.parse(info.body) as { State?: { Running?: boolean } }).State?.Running === true;
    if (!running) return fail('reload', `docker: container "${container}" is not running`, 'start the broker container');
    return pass('reload', `docker: ${socket} reachable, container "${container}" running`);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail('reload', `docker: cannot reach the Docker Engine API at ${socket}: ${code ?? (e as Error).message}`,
      code === 'EACCES' ? 'MCM\'s user needs access to the socket (the docker group), or use reload strategy "signal" with a shared PID namespace' : 'mount the socket into MCM\'s container, or fix mosquitto.reload.docker.socket');
  }
};

export const checkReload = async (config: Config, env: NodeJS.ProcessEnv): Promise<CheckResult> => {
  const r = config.mosquitto.reload;
  switch (r.strategy) {
    case 'supervised': {
      const bin = findExecutable(config.mosquitto.binary, env['PATH']);
      return bin
        ? pass('reload', `supervised: MCM runs ${bin} and signals it itself`)
        : fail('reload', `supervised: no broker binary ${config.mosquitto.binary} to run`, 'install mosquitto or set mosquitto.binary');
    }
    case 'signal': return checkSignal(r.pid_file);
    case 'command': return checkCommand(r.command, env);
    case 'docker': return checkDocker(r.docker.socket, r.docker.container);
    case 'none': return warn('reload', 'reload strategy "none": MCM writes the files but never reloads the broker, so no change is ever confirmed as applied',
      'choose signal, command or docker in mosquitto.reload.strategy');
  }
};
