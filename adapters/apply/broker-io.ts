/**
 * The apply loop's hands (DESIGN §6): read and write the broker files, reload, and confirm with
 * the probe plus the broker's own error lines. Counts writes and reloads (coalescing is asserted
 * on them) and remembers what it last wrote (the drift watcher's reference).
 */
import { isBrokerErrorLine } from '../mosquitto/broker-log.ts';
import type { ProbeSession } from '../mosquitto/probe.ts';
import { readTextOrNull, writeRenderedFile } from '../files/write-rendered-file.ts';
import type { FileName, FileSpec } from './broker-files.ts';
import type { ApplyLoopDeps } from './apply-loop.ts';
import type { Files } from './good-files.ts';
import { createWriteIntent } from './write-intent.ts';

/** `retryable`: the broker was down before MCM asked it to reload, so the files are not to blame. */
export type Failure = { reason: string; failOpen: boolean; unreachable?: boolean; retryable?: boolean };

export const truncate = (s: string, n = 500): string => (s.length > n ? `${s.slice(0, n)}…` : s);

export const createBrokerIo = (deps: ApplyLoopDeps) => {
  const { files, reloader } = deps;
  const counters = { applies: 0, writes: 0, reloads: 0 };
  /** What MCM last put in each file: the watcher's reference for drift. */
  const expected = new Map<string, string>();
  /** Everything MCM wrote lately, kept across restarts: its own unconfirmed writes are not drift. */
  const intent = deps.writeIntent ?? createWriteIntent(null);
  let reachable = true;

  const readDisk = (): Map<FileName, string | null> => new Map(files.specs.map((s) => [s.name, readTextOrNull(s.path)]));

  const write = (spec: FileSpec, content: string, intended = false): void => {
    expected.set(spec.path, content);
    if (!intended) intent.add(new Map([[spec.name, content]]));
    writeRenderedFile(spec.path, content, spec.ownership());
  };

  /** Writes the files whose bytes differ from disk (all of them with `force`). */
  const writeAll = (wanted: Files, disk: ReadonlyMap<FileName, string | null>, force = false): boolean => {
    const todo = files.specs.flatMap((spec) => {
      const content = wanted.get(spec.name);
      if (content === undefined) return [];
      expected.set(spec.path, content);
      return !force && disk.get(spec.name) === content ? [] : [{ spec, content }];
    });
    if (todo.length === 0) return false;
    // Recorded before the first byte is written, so a crash in between leaves nothing unexplained.
    intent.add(new Map(todo.map((x) => [x.spec.name, x.content])));
    for (const { spec, content } of todo) write(spec, content, true);
    counters.writes++;
    return true;
  };

  const reload = async (): Promise<Failure | null> => {
    try {
      counters.reloads++;
      await reloader.reload();
      return null;
    } catch (e) {
      return { reason: `reload failed: ${(e as Error).message}`, failOpen: false, retryable: true };
    }
  };

  /** Probe + (supervised) the broker's own error lines since `mark` (reference §3.4 rule 4). */
  const confirm = async (generation: number, allowAnonymous: boolean, mark: number | null, session: ProbeSession | null = null): Promise<Failure | null> => {
    const probe = await deps.probe({ generation, allowAnonymous, session });
    reachable = probe.ok || !probe.unreachable;
    const errors = mark === null ? [] : (deps.brokerLog?.since(mark) ?? []).filter(isBrokerErrorLine);
    if (!probe.ok) {
      const log = errors.length ? ` (broker log: ${errors.map((l) => l.message).join(' | ')})` : '';
      return { reason: truncate(probe.reason + log), failOpen: probe.failOpen, unreachable: probe.unreachable };
    }
    if (errors.length) return { reason: truncate(`broker reported: ${errors.map((l) => l.message).join(' | ')}`), failOpen: false };
    if (deps.brokerRunning && !deps.brokerRunning()) return { reason: 'the broker exited after the reload', failOpen: false };
    return null;
  };

  return {
    counters,
    expected,
    /** True when `content` of the file `name` is MCM's own write (confirmed or not), not an outside edit. */
    ownWrite: (name: FileName, content: string | null | undefined): boolean => typeof content === 'string' && intent.isOwn(name, content),
    readDisk,
    write,
    writeAll,
    reload,
    confirm,
    /** Whether the last probe reached the broker. */
    reachable: (): boolean => reachable,
    setReachable: (r: boolean): void => { reachable = r; },
  };
};
