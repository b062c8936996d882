/**
 * What MCM is about to write to the broker files, kept before it writes them. The checkpoint is
 * recorded only after the broker confirmed the files (DESIGN §6), so after a crash between the
 * write and the checkpoint the files on disk are MCM's own yet neither the last-known-good set
 * nor (when more changes came meanwhile) the next render. Without this record the next start
 * reports them as "changed outside MCM": a false security event and webhook for every crash
 * under write load.
 *
 * The record is a small JSON file in the data dir: `{file name: [sha256, …]}` (password_file,
 * acl_file, mosquitto_conf; names, not paths, so a data dir moved or restored elsewhere keeps
 * it), the last few per file (a crash between two files' writes leaves one a write behind). It is written
 * atomically (temp + rename) but not fsynced: it must survive the process, not the machine; after
 * a power loss the worst case is one spurious drift report.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { sha256 } from './broker-files.ts';

export type WriteIntent = {
  /** Records `contents` (file name → text) as about to be written by MCM; throws when it cannot be kept. */
  add(contents: ReadonlyMap<string, string>): void;
  /** True when `content` is something MCM itself wrote (or was about to write) to the file `name`. */
  isOwn(name: string, content: string): boolean;
};

/** Hashes kept per file. */
const KEEP = 4;

/** `file` null: kept in memory only (tests, tools that never restart). */
export const createWriteIntent = (file: string | null): WriteIntent => {
  const byName = new Map<string, string[]>();
  if (file) {
    // Left by a crash between writing and renaming it; created only by the one server of this data dir.
    rmSync(`${file}.tmp`, { force: true });
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as { files?: Record<string, unknown> };
      for (const [name, hashes] of Object.entries(parsed.files ?? {})) {
        if (Array.isArray(hashes)) byName.set(name, hashes.filter((h): h is string => typeof h === 'string').slice(-KEEP));
      }
    } catch { /* missing or unreadable: nothing recorded yet (a drift report at worst) */ }
  }
  return {
    add(contents) {
      let changed = false;
      for (const [name, content] of contents) {
        const h = sha256(content);
        const list = byName.get(name) ?? [];
        if (list.at(-1) === h) continue;
        byName.set(name, [...list.filter((x) => x !== h), h].slice(-KEEP));
        changed = true;
      }
      if (!changed || !file) return;
      // One server per data dir (server.lock): a fixed temp name, so a crash leaves at most one.
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ files: Object.fromEntries(byName) })}\n`, { mode: 0o600 });
      renameSync(tmp, file);
    },
    isOwn: (name, content) => byName.get(name)?.includes(sha256(content)) ?? false,
  };
};
