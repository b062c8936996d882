/**
 * Drift watch (DESIGN §6): chokidar watches the directories of the rendered files and reports any
 * add/change/unlink of one of them. It only says "this path changed": whether that was MCM's own
 * write or an outside edit is decided by the apply loop, which compares the bytes with what it
 * last wrote. Directories are watched (depth 0) rather than the files, because every write is a
 * rename over the file (a new inode), which a per-file watch can lose. A stat poll backs the
 * watch up (`poll-files.ts`): chokidar can miss an edit right after a rename.
 */
import { watch, type FSWatcher } from 'chokidar';
import { basename, dirname, resolve } from 'node:path';
import { pollFiles } from './poll-files.ts';
import { isTempName } from './write-rendered-file.ts';

export type FileWatch = { ready: Promise<void>; close(): Promise<void> };

export type WatchOptions = Readonly<{
  paths: readonly string[];
  onChange: (path: string) => void;
  onError?: (err: Error) => void;
  /** Quiet period after the last event before reporting a path (editors write in steps). */
  settleMs?: number;
  /** Interval of the stat poll that catches what the watch missed. */
  pollMs?: number;
}>;

export const watchFiles = (opts: WatchOptions): FileWatch => {
  const targets = new Set(opts.paths.map((p) => resolve(p)));
  const dirs = [...new Set([...targets].map((p) => dirname(p)))];
  const settleMs = opts.settleMs ?? 50;
  const timers = new Map<string, NodeJS.Timeout>();
  const watcher: FSWatcher = watch(dirs, {
    depth: 0,
    ignoreInitial: true,
    // Not persistent: the watch must never be what keeps a stopping process alive. chokidar can
    // leave a watch on a parent directory behind when the watched one is removed around close()
    // (seen as a test process that never exited, holding an fs watch on /tmp); the server is kept
    // alive by its HTTP listener, not by this.
    persistent: false,
    // Our own temp files come and go on every write; they are never a target.
    ignored: (p: string) => isTempName(basename(p)),
    atomic: false,
  });
  const fire = (raw: string): void => {
    const path = resolve(raw);
    if (!targets.has(path)) return;
    // Recorded before the report reads the file: anything later changes the signature again.
    poll.saw(path);
    const t = timers.get(path);
    if (t) clearTimeout(t);
    timers.set(path, setTimeout(() => { timers.delete(path); opts.onChange(path); }, settleMs));
  };
  watcher.on('add', fire);
  watcher.on('change', fire);
  watcher.on('unlink', fire);
  watcher.on('error', (e) => opts.onError?.(e as Error));
  const poll = pollFiles([...targets], opts.pollMs ?? 1000, fire);
  const ready = new Promise<void>((r) => watcher.once('ready', () => r()));
  return {
    ready,
    async close() {
      poll.close();
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      await watcher.close();
    },
  };
};
