/**
 * Reload strategies (DESIGN §6): how MCM tells the broker to re-read its files after a write.
 * Every strategy sends SIGHUP in the end (reference §3.1: the handler sets a flag, the main loop
 * re-reads the config, password and ACL files within ~100 ms). Errors name what to fix.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { ReloadStrategy } from '../config/config.ts';
import { isAlive } from './supervisor.ts';

export type Reloader = Readonly<{
  strategy: ReloadStrategy;
  /**
   * False for `none`: MCM writes but never signals, so it cannot prove the broker uses the files
   * and an apply is only ever `written` (DESIGN §6).
   */
  confirms: boolean;
  reload(): Promise<void>;
  /**
   * Whether the broker process still runs, when the strategy can tell (signal: the pid in the pid
   * file); null or absent otherwise. Used after a reload that lost the broker (2.1 exits on a bad
   * file, reference §8).
   */
  alive?: () => boolean | null;
}>;

/** Supervised mode: SIGHUP the child. */
export const createSupervisedReloader = (supervisor: { reload(): void }): Reloader => ({
  strategy: 'supervised',
  confirms: true,
  reload: async () => { supervisor.reload(); },
});

/** The pid in `pidFile`, or null when it cannot be read. */
const readPid = (pidFile: string | null): number | null => {
  if (!pidFile) return null;
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 1 ? pid : null;
  } catch {
    return null;
  }
};

/** `signal`: SIGHUP the pid in a pid file (both processes in one PID namespace). */
export const createSignalReloader = ({ pidFile }: { pidFile: string | null }): Reloader => ({
  strategy: 'signal',
  confirms: true,
  alive: () => {
    // A broker that exits cleanly removes its pid file.
    if (pidFile && !existsSync(pidFile)) return false;
    const pid = readPid(pidFile);
    return pid === null ? null : isAlive(pid);
  },
  reload: async () => {
    if (!pidFile) throw new Error('reload strategy "signal" needs mosquitto.reload.pid_file');
    let text: string;
    try {
      text = readFileSync(pidFile, 'utf8');
    } catch (e) {
      throw new Error(`cannot read mosquitto pid file ${pidFile}: ${(e as Error).message} (is mosquitto running with pid_file ${pidFile}?)`);
    }
    const pid = Number(text.trim());
    if (!Number.isInteger(pid) || pid <= 1) throw new Error(`mosquitto pid file ${pidFile} does not hold a pid (got ${JSON.stringify(text.trim().slice(0, 40))})`);
    try {
      process.kill(pid, 'SIGHUP');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') throw new Error(`mosquitto is not running: no process ${pid} (from pid file ${pidFile})`);
      if (code === 'EPERM') throw new Error(`not allowed to signal mosquitto (pid ${pid} from ${pidFile}): run MCM as the broker's user or root, or use reload strategy "command"`);
      throw e;
    }
  },
});

/** `command`: run an argv (no shell, so nothing in it is interpreted) with a timeout. */
export const createCommandReloader = ({ argv, timeoutMs = 10_000 }: { argv: readonly string[]; timeoutMs?: number }): Reloader => ({
  strategy: 'command',
  confirms: true,
  reload: () =>
    new Promise<void>((resolve, reject) => {
      const [file, ...args] = argv;
      if (!file) { reject(new Error('reload strategy "command" needs mosquitto.reload.command (an argv array)')); return; }
      execFile(file, args, { timeout: timeoutMs, shell: false, windowsHide: true }, (err, _stdout, stderr) => {
        if (!err) { resolve(); return; }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string | null };
        const detail = String(stderr).trim().slice(0, 500);
        if (e.killed) reject(new Error(`reload command ${file} timed out after ${timeoutMs} ms`));
        else if (e.code === 'ENOENT') reject(new Error(`reload command not found: ${file}`));
        else reject(new Error(`reload command ${file} failed (exit ${String(e.code)})${detail ? `: ${detail}` : ''}`));
      });
    }),
});

/**
 * `docker`: the Engine API's container kill with signal=SIGHUP over the unix socket
 * (`POST /containers/{id}/kill?signal=SIGHUP` → 204; 404 no such container; 409 not running).
 */
export const createDockerReloader = ({ socket, container, timeoutMs = 10_000 }: { socket: string; container: string | null; timeoutMs?: number }): Reloader => ({
  strategy: 'docker',
  confirms: true,
  reload: () =>
    new Promise<void>((resolve, reject) => {
      if (!container) { reject(new Error('reload strategy "docker" needs mosquitto.reload.docker.container')); return; }
      const req = request({
        socketPath: socket,
        method: 'POST',
        path: `/containers/${encodeURIComponent(container)}/kill?signal=SIGHUP`,
        headers: { host: 'docker', 'content-length': 0 },
        timeout: timeoutMs,
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { body += c; });
        res.on('end', () => {
          if (res.statusCode === 204 || res.statusCode === 200) { resolve(); return; }
          let message = body.trim();
          try { message = (JSON.parse(body) as { message?: string }).message ?? message; } catch { /* not JSON */ }
          reject(new Error(`docker could not signal container ${container} (HTTP ${res.statusCode}): ${message}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`docker Engine API at ${socket} timed out after ${timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        reject(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' || e.code === 'EACCES'
          ? new Error(`cannot reach the docker Engine API at ${socket}: ${e.code}`)
          : e);
      });
      req.end();
    }),
});

/** `none`: files are written, the broker is never told (tests, or an operator who reloads by hand). */
export const createNoReloader = (): Reloader => ({ strategy: 'none', confirms: false, reload: async () => {} });

export type ReloaderConfig = Readonly<{
  strategy: ReloadStrategy;
  pid_file: string | null;
  command: string[];
  docker: { socket: string; container: string | null };
}>;

/** The reloader for an external broker's configured strategy. */
export const createExternalReloader = (cfg: ReloaderConfig): Reloader => {
  switch (cfg.strategy) {
    case 'signal': return createSignalReloader({ pidFile: cfg.pid_file });
    case 'command': return createCommandReloader({ argv: cfg.command });
    case 'docker': return createDockerReloader(cfg.docker);
    case 'none': return createNoReloader();
    case 'supervised': throw new Error('reload strategy "supervised" needs mosquitto.mode supervised');
  }
};
