/**
 * Follows a growing log file like `tail -F`, line by line. chokidar says when the file's directory
 * changed (a directory watch also sees the file replaced by a rotation); a slow poll catches what
 * a coalesced event would miss (two appends inside chokidar's throttle window, then silence).
 * A rotation is noticed three ways: a new inode (rename + create), a smaller size (copytruncate),
 * or different bytes just before our offset (truncated and refilled past it between two looks).
 */
import { watch, type FSWatcher } from 'chokidar';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export type FollowOptions = Readonly<{
  path: string;
  /** `replay` is true for lines that were already in the file at start. */
  onLine: (line: string, replay: boolean) => void;
  onError: (err: Error) => void;
  /** How much of an existing file to replay at start (its tail). */
  replayBytes?: number;
  pollMs?: number;
}>;

export type FileFollower = { start(): Promise<void>; stop(): Promise<void> };

const MARK_BYTES = 64;
const CHUNK_BYTES = 1024 * 1024;

const readAt = async (fh: FileHandle, length: number, position: number): Promise<Buffer> => {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
};

export const followFile = (opts: FollowOptions): FileFollower => {
  const path = resolve(opts.path);
  const pollMs = opts.pollMs ?? 1000;
  let watcher: FSWatcher | null = null;
  let poll: NodeJS.Timeout | null = null;
  let offset = 0;
  let ino: number | null = null;
  /** The last bytes before `offset`, to recognise the file we were reading. */
  let mark: Buffer = Buffer.alloc(0);
  let partial = '';
  let skipFirst = false;
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;

  const reset = (): void => {
    offset = 0;
    mark = Buffer.alloc(0);
    partial = '';
    skipFirst = false;
  };

  const emit = (text: string, replay: boolean): void => {
    const parts = (partial + text).split('\n');
    partial = parts.pop() ?? '';
    if (skipFirst && parts.length > 0) {
      parts.shift();
      skipFirst = false;
    }
    for (const p of parts) {
      const line = p.endsWith('\r') ? p.slice(0, -1) : p;
      if (line.length > 0) opts.onLine(line, replay);
    }
  };

  const readOnce = async (replay: boolean): Promise<void> => {
    let st;
    try {
      st = await stat(path);
    } catch {
      reset(); // gone (rotated away): its successor is read from the start
      ino = null;
      return;
    }
    if (ino !== null && st.ino !== ino) reset();
    ino = st.ino;
    if (st.size < offset) reset();
    const fh = await open(path, 'r');
    try {
      if (mark.length > 0 && !(await readAt(fh, mark.length, offset - mark.length)).equals(mark)) reset();
      while (offset < st.size && !stopped) {
        const data = await readAt(fh, Math.min(CHUNK_BYTES, st.size - offset), offset);
        if (data.length === 0) break;
        offset += data.length;
        mark = Buffer.from(data.length >= MARK_BYTES ? data.subarray(data.length - MARK_BYTES) : Buffer.concat([mark, data]).subarray(-MARK_BYTES));
        emit(data.toString('utf8'), replay);
      }
    } finally {
      await fh.close();
    }
  };

  /** Coalesces: one read at a time, and one more after it if something happened meanwhile. */
  const check = (replay = false): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await readOnce(replay);
        } catch (e) {
          opts.onError(e as Error);
        }
      } while (again && !stopped);
      running = null;
    })();
    return running;
  };

  return {
    async start() {
      try {
        const st = await stat(path);
        ino = st.ino;
        offset = Math.max(0, st.size - (opts.replayBytes ?? 4 * 1024 * 1024));
        skipFirst = offset > 0; // started mid-line: the first fragment is not a line
        if (offset > 0) {
          const fh = await open(path, 'r');
          try {
            mark = await readAt(fh, Math.min(MARK_BYTES, offset), offset - Math.min(MARK_BYTES, offset));
          } finally {
            await fh.close();
          }
        }
      } catch {
        // Not there yet: read from its start when it appears.
      }
      await check(true);
      if (skipFirst) {
        partial = '';
        skipFirst = false;
      }
      watcher = watch(dirname(path), { depth: 0, ignoreInitial: true, persistent: false, atomic: false });
      const onEvent = (p: string): void => { if (resolve(p) === path) void check(); };
      watcher.on('add', onEvent);
      watcher.on('change', onEvent);
      watcher.on('unlink', onEvent);
      watcher.on('error', (e) => opts.onError(e as Error));
      await new Promise<void>((r) => watcher?.once('ready', () => r()));
      poll = setInterval(() => { void check(); }, pollMs);
      poll.unref();
      await check(); // anything appended while the watcher was getting ready
    },
    async stop() {
      stopped = true;
      if (poll) clearInterval(poll);
      poll = null;
      await watcher?.close();
      watcher = null;
      await running;
    },
  };
};
