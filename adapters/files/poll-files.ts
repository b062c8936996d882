/**
 * The drift watch's backstop (DESIGN §6): a stat poll of the few rendered files. inotify alone is
 * not enough: chokidar follows a renamed-over file by re-watching the new inode asynchronously,
 * and an edit that lands in that window is never reported (seen in CI: a write right after MCM's
 * own apply stayed undetected). Only stats, no reads: inode, size and the times change with any
 * write in place or by rename, so a lost event costs at most one interval.
 */
import { statSync } from 'node:fs';

export type FilePoll = {
  /** Records the path's current signature (an event already reported it). */
  saw(path: string): void;
  close(): void;
};

const signature = (path: string): string => {
  try {
    const st = statSync(path, { bigint: true });
    return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  } catch {
    return '<missing>';
  }
};

export const pollFiles = (paths: readonly string[], intervalMs: number, onChange: (path: string) => void): FilePoll => {
  const seen = new Map(paths.map((p) => [p, signature(p)]));
  const timer = setInterval(() => {
    for (const [path, was] of seen) {
      const now = signature(path);
      if (now === was) continue;
      seen.set(path, now);
      onChange(path);
    }
  }, intervalMs);
  // Never what keeps a stopping process alive (as the watch itself).
  timer.unref();
  return {
    saw: (path) => { if (seen.has(path)) seen.set(path, signature(path)); },
    close: () => clearInterval(timer),
  };
};
