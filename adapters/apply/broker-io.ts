/**
 * The apply loop's hands (DESIGN §6): read and write the broker files, reload, and confirm with
 * the probe plus the broker's own error lines. Counts writes and reloads (coalescing is asserted
 * on them) and remembers what it last wrote (the drift watcher's reference).
 */
import { isBrokerErrorLine } from '../mosquitto/broker-log.ts';
import type { ProbeSession } from '../mosquitto/probe.ts';
import { existsSync, statSync } from 'node:fs';
import { fileSha256, keepOriginal, PRE_MCM_SUFFIX, readTextOrNull, writeRenderedFile } from '../files/write-rendered-file.ts';
import type { FileName, FileSpec } from './broker-files.ts';
import type { ApplyLoopDeps } from './apply-loop.ts';
import type { Files } from './good-files.ts';
import { sharedText } from './shared-text.ts';
import { createWriteIntent } from './write-intent.ts';

/**
 * `retryable`: the broker was down before MCM asked it to reload, so the files are not to blame.
 * `exited`: the broker process is gone after the reload (Mosquitto 2.1 exits with code 3 when a
 * reload meets a bad file, reference §8).
 */
export type Failure = { reason: string; failOpen: boolean; unreachable?: boolean; retryable?: boolean; exited?: boolean };

/** Write order of one apply: the password file last (see `plan`). */
const WRITE_ORDER: readonly FileName[] = ['acl_file', 'mosquitto_conf', 'password_file'];

export const truncate = (s: string, n = 500): string => (s.length > n ? `${s.slice(0, n)}…` : s);

export const createBrokerIo = (deps: ApplyLoopDeps) => {
  const { files, reloader } = deps;
  const counters = { applies: 0, writes: 0, reloads: 0 };
  /** What MCM last put in each file: the watcher's reference for drift. */
  const expected = new Map<string, string>();
  /** Everything MCM wrote lately, kept across restarts: its own unconfirmed writes are not drift. */
  const intent = deps.writeIntent ?? createWriteIntent(null);
  let reachable = true;

  /**
   * The text last read from or written to each file, with the file's signature then (device,
   * inode, size, mtime and ctime in ns). An unchanged signature means unchanged bytes, so an ACL
   * change does not read back and compare a password file of 100,000 users (issue 14). Any write
   * to the file, a rename over it, a chmod or a new link changes its ctime. What this cannot see
   * (an edit in place keeping the size within the clock tick of MCM's own write) the file
   * watcher still does: it reads the bytes (fileChanged).
   */
  const seen = new Map<string, { sig: string; text: string }>();
  const signature = (path: string): string | null => {
    try {
      const st = statSync(path, { bigint: true });
      return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    } catch {
      return null;
    }
  };
  const readKnown = (spec: FileSpec): string | null => {
    const { path } = spec;
    // Signed before reading: a change during the read moves the signature again.
    const sig = signature(path);
    const hit = seen.get(path);
    if (sig !== null && hit?.sig === sig) return hit.text;
    const read = readTextOrNull(path);
    const text = read === null ? null : sharedText(spec.name, read);
    if (sig !== null && text !== null) seen.set(path, { sig, text });
    else seen.delete(path);
    return text;
  };
  /** After MCM's own write and publish (whose links change the ctime of every file of the pair). */
  const remember = (texts: ReadonlyMap<FileName, string | null | undefined>): void => {
    for (const spec of files.specs) {
      const text = texts.get(spec.name);
      const sig = signature(spec.path);
      if (typeof text === 'string' && sig !== null) seen.set(spec.path, { sig, text });
      else seen.delete(spec.path);
    }
  };
  const readDisk = (): Map<FileName, string | null> => new Map(files.specs.map((s) => [s.name, readKnown(s)]));
  /** What is on disk after writing `todo` over `disk`. */
  const after = (disk: ReadonlyMap<FileName, string | null>, todo: readonly { spec: FileSpec; content: string }[]): Map<FileName, string | null> => {
    const m = new Map(disk);
    for (const { spec, content } of todo) m.set(spec.name, content);
    return m;
  };

  /**
   * The first time MCM replaces a foreign file it was allowed to adopt (an import or a takeover
   * recorded its sha256), the original is kept as `<file>.pre-mcm` BEFORE the rename (DESIGN §10).
   * Once that copy exists it is never touched again, so the check is one stat afterwards.
   */
  const keepAdoptedOriginal = (spec: FileSpec): void => {
    if (spec.name === 'mosquitto_conf') return;
    const adopted = deps.store.state().adoptedFiles?.[spec.name];
    if (!adopted || existsSync(`${spec.path}${PRE_MCM_SUFFIX}`) || fileSha256(spec.path) !== adopted.sha256) return;
    const copy = keepOriginal(spec.path);
    if (copy) deps.logger?.info({ file: spec.name, path: spec.path, copy }, `kept the original ${spec.name} as ${copy} before replacing it`);
  };

  /**
   * Supervised: points the broker's `live` symlink at the files now on disk (pair-switch.ts), so a
   * reload reads both files of one write. External: nothing (the operator's paths are fixed).
   */
  const publish = (): void => {
    const sw = deps.pairSwitch;
    const pw = files.specs.find((s) => s.name === 'password_file');
    const acl = files.specs.find((s) => s.name === 'acl_file');
    if (sw && pw && acl) sw.publish({ password_file: pw.path, acl_file: acl.path });
  };

  const write = (spec: FileSpec, content: string, intended = false): void => {
    expected.set(spec.path, content);
    if (!intended) intent.add(new Map([[spec.name, content]]));
    keepAdoptedOriginal(spec);
    seen.delete(spec.path);
    writeRenderedFile(spec.path, content, spec.ownership());
    if (!intended) {
      publish();
      seen.clear(); // the other file of the pair was linked anew: read it again next time
    }
  };

  /** The files whose bytes differ from disk (all of them with `force`), the password file last. */
  const plan = (wanted: Files, disk: ReadonlyMap<FileName, string | null>, force: boolean): { spec: FileSpec; content: string }[] => {
    const todo = files.specs.flatMap((spec) => {
      const content = wanted.get(spec.name);
      if (content === undefined) return [];
      expected.set(spec.path, content);
      return !force && disk.get(spec.name) === content ? [] : [{ spec, content }];
    });
    // External mode renames the two files one after the other at the operator's fixed paths: an
    // outside SIGHUP in between loads the new ACL with the old password file, and the probe's
    // password-file marker (broker-files.ts) then refuses to confirm until both are loaded.
    return todo.sort((a, b) => WRITE_ORDER.indexOf(a.spec.name) - WRITE_ORDER.indexOf(b.spec.name));
  };

  /** Writes the files whose bytes differ from disk (all of them with `force`), then publishes the pair. */
  const writeAll = (wanted: Files, disk: ReadonlyMap<FileName, string | null>, force = false): boolean => {
    const todo = plan(wanted, disk, force);
    if (todo.length > 0) {
      // Recorded before the first byte is written, so a crash in between leaves nothing unexplained.
      intent.add(new Map(todo.map((x) => [x.spec.name, x.content])));
      for (const { spec, content } of todo) write(spec, content, true);
      counters.writes++;
    }
    publish();
    remember(after(disk, todo));
    return todo.length > 0;
  };

  /** writeAll for an apply: runs the test-only `betweenRenames` hook after the first rename. */
  const writeAllStepwise = async (wanted: Files, disk: ReadonlyMap<FileName, string | null>): Promise<boolean> => {
    const todo = plan(wanted, disk, false);
    if (todo.length > 0) {
      intent.add(new Map(todo.map((x) => [x.spec.name, x.content])));
      for (const [i, { spec, content }] of todo.entries()) {
        if (i === 1 && deps.betweenRenames) {
          try { await deps.betweenRenames(); } catch (e) { deps.logger?.warn({ err: (e as Error).message }, 'betweenRenames hook failed'); }
        }
        write(spec, content, true);
      }
      counters.writes++;
    }
    publish();
    remember(after(disk, todo));
    return todo.length > 0;
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

  /**
   * Why the broker process is gone, or null when it runs (or MCM cannot tell: reload strategies
   * without a process to look at). A 2.1 broker exits with code 3 when a reload meets a bad file
   * (reference §8); 2.0 keeps running and fails open instead (§3.4).
   */
  const brokerGone = (): string | null => {
    if (deps.brokerRunning) {
      if (deps.brokerRunning()) return null;
      const code = deps.brokerExit?.()?.code;
      return `the broker exited after the reload${code === null || code === undefined ? '' : ` with code ${code}`}` +
        `${code === 3 ? ' (Mosquitto 2.1 exits with code 3 when a reload meets a bad file, reference §8)' : ''}`;
    }
    const alive = reloader.alive?.() ?? null;
    return alive === false ? 'the broker process is gone after the reload (Mosquitto 2.1 exits with code 3 when a reload meets a bad file, reference §8)' : null;
  };

  /**
   * Probe + (supervised) the broker's own error lines since `mark` (reference §3.4 rule 4).
   * `passwordMarker`: the marker user of the password file written with this generation; the
   * probe proves the broker runs that password file too, not only the ACL (issue 12).
   */
  const confirm = async (generation: number, allowAnonymous: boolean, mark: number | null, session: ProbeSession | null = null, passwordMarker: string | null = null): Promise<Failure | null> => {
    const probe = await deps.probe({ generation, allowAnonymous, session, passwordMarker });
    reachable = probe.ok || !probe.unreachable;
    const errors = mark === null ? [] : (deps.brokerLog?.since(mark) ?? []).filter(isBrokerErrorLine);
    if (!probe.ok) {
      const log = errors.length ? ` (broker log: ${errors.map((l) => l.message).join(' | ')})` : '';
      // A broker that exits on the reload (2.1, reference §8) drops the probe's connection a
      // moment before its exit is seen: give the exit that moment before blaming the files.
      let gone = brokerGone();
      for (let i = 0; gone === null && probe.unreachable && i < 20; i++) {
        await new Promise((r) => setTimeout(r, 50));
        gone = brokerGone();
      }
      if (gone !== null) return { reason: truncate(`${gone}${log}`), failOpen: false, unreachable: true, exited: true };
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
    writeAllStepwise,
    reload,
    confirm,
    brokerGone,
    /** Whether the last probe reached the broker. */
    reachable: (): boolean => reachable,
    setReachable: (r: boolean): void => { reachable = r; },
  };
};
