/**
 * GitOps watch mode (config `gitops.watch_dir`, DESIGN §1): chokidar notices a change of the YAML
 * files in the dir, and after a quiet period (editors and `git pull` write in steps) the dir is
 * read, checked and applied as one batch with actor `{kind: 'gitops', id: 'dir:<dir>'}` — the
 * same path as `mcm apply`. Invalid files are refused as a whole: every problem is logged and
 * reported to `onResult`, and nothing changes. The dir is also applied once when the watch is
 * ready, so edits made while the server was down are not missed.
 */
import { watch, type FSWatcher } from 'chokidar';
import { basename, resolve } from 'node:path';
import type { BrokerConfigContext } from '../../core/decide/broker-config.ts';
import { ERROR_CODES, isDomainError } from '../../core/errors.ts';
import type { PlanChange } from '../../core/gitops-plan.ts';
import type { Clock, EventStore } from '../../core/ports.ts';
import type { Logger } from '../logging/logger.ts';
import { applyGitops } from './apply-bundle.ts';
import { readGitopsDir, formatProblem, type GitopsFileProblem } from './yaml-files.ts';

export type GitopsWatchResult =
  | { ok: true; seq: number; events_count: number; changes: PlanChange[] }
  | { ok: false; problems: GitopsFileProblem[] };

export type GitopsWatchOptions = Readonly<{
  dir: string;
  store: EventStore;
  clock: Clock;
  /** config.mqtt.service_account.username: never managed as an MQTT user. */
  serviceAccount: string;
  backend?: 'files' | 'dynsec';
  /** As GitopsDeps (adapters/gitops/apply-bundle.ts): what broker.yaml is checked against. */
  broker?: BrokerConfigContext;
  bridgePasswordExists?: (ref: string) => boolean;
  /** False: external mode without mosquitto.conf_fragment (broker.yaml changes are refused). */
  brokerManaged?: boolean;
  logger: Pick<Logger, 'info' | 'error'>;
  onResult?: (result: GitopsWatchResult) => void;
  /** Quiet period after the last file event before applying (default 300 ms). */
  debounceMs?: number;
  /** Apply the dir once when the watch is ready (default true). */
  initialSync?: boolean;
}>;

export type GitopsWatch = {
  /** Resolves when chokidar watches the dir (and the initial sync, if any, has run). */
  ready: Promise<void>;
  /** Reads, checks and applies the dir now (synchronously); also what a file change triggers. */
  sync(): GitopsWatchResult;
  close(): Promise<void>;
};

/** Files the dir is read for; hidden files (editor swap files, temp files, .git) never count. */
const relevant = (path: string): boolean => {
  const name = basename(path);
  return !name.startsWith('.') && /\.ya?ml$/i.test(name);
};

export const watchGitopsDir = (opts: GitopsWatchOptions): GitopsWatch => {
  const dir = resolve(opts.dir);
  const { logger } = opts;
  const debounceMs = opts.debounceMs ?? 300;
  const actor = { kind: 'gitops', id: `dir:${dir}` } as const;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const report = (result: GitopsWatchResult): GitopsWatchResult => {
    try {
      opts.onResult?.(result);
    } catch (e) {
      logger.error({ err: (e as Error).message }, 'gitops: onResult listener failed');
    }
    return result;
  };

  const refuse = (problems: GitopsFileProblem[]): GitopsWatchResult => {
    logger.error(
      { dir, problems: problems.map(formatProblem) },
      `gitops: refused ${dir}: ${problems.length} problem${problems.length === 1 ? '' : 's'}, nothing was changed`,
    );
    return report({ ok: false, problems });
  };

  const sync = (): GitopsWatchResult => {
    try {
      const read = readGitopsDir(dir, { serviceAccount: opts.serviceAccount });
      if (!read.ok) return refuse(read.problems);
      // Synchronous from reading the state to the single append (STYLE principle 3).
      const { store, clock, serviceAccount, broker, bridgePasswordExists, brokerManaged, backend } = opts;
      const deps = {
        store, clock, serviceAccount, ...(broker === undefined ? {} : { broker }), ...(backend === undefined ? {} : { backend }),
        ...(bridgePasswordExists === undefined ? {} : { bridgePasswordExists }), ...(brokerManaged === undefined ? {} : { brokerManaged }),
      };
      const out = applyGitops(deps, read.bundle, { actor });
      if (out.events_count > 0) {
        logger.info({ dir, seq: out.seq, events: out.events_count, commands: out.commands_count }, `gitops: applied ${dir}\n${out.plan_text}`);
      }
      return report({ ok: true, seq: out.seq, events_count: out.events_count, changes: out.changes });
    } catch (e) {
      // Runs from a timer: nothing may escape and take the server down.
      // Problems only the data dir shows (a certificate broker.yaml names is not there): one each.
      if (isDomainError(e) && e.code === ERROR_CODES.GITOPS_INVALID) {
        return refuse(e.details.map((d) => ({ file: String(d['file']), path: String(d['path']), message: String(d['message']) })));
      }
      if (isDomainError(e)) return refuse([{ path: '', message: `${e.code}: ${e.message}` }]);
      logger.error({ dir, err: (e as Error).message }, 'gitops: apply failed');
      return report({ ok: false, problems: [{ path: '', message: (e as Error).message }] });
    }
  };

  const schedule = (path: string): void => {
    if (closed || !relevant(path)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      if (!closed) sync();
    }, debounceMs);
  };

  const watcher: FSWatcher = watch(dir, {
    depth: 0,
    ignoreInitial: true,
    persistent: false, // never what keeps a stopping process alive (see adapters/files/watch.ts)
    ignored: (p: string) => p !== dir && basename(p).startsWith('.'),
  });
  watcher.on('add', schedule);
  watcher.on('change', schedule);
  watcher.on('unlink', schedule);
  watcher.on('error', (e) => logger.error({ dir, err: (e as Error).message }, 'gitops: watcher error'));
  const ready = new Promise<void>((r) => watcher.once('ready', () => {
    if (opts.initialSync !== false && !closed) sync();
    r();
  }));

  return {
    ready,
    sync,
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await watcher.close();
    },
  };
};
