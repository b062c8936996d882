/**
 * One copy of each broker file's text in memory (issue 14, idle memory): at 100,000 users the
 * same 12 MB password_file was held up to five times — rendered, read back from disk, loaded
 * from the last-known-good row, remembered as what is expected on disk. Every path that produces
 * a file's text hands it through `sharedText`; when the text held for that file is equal, the
 * held instance is returned and the new copy becomes garbage. Only the latest text per file is
 * held, and it is in use anyway (it is what the broker runs or is about to).
 */
import type { FileName } from './broker-files.ts';

/** Small texts are not worth comparing: their copies cost nothing. */
const MIN_LENGTH = 64 * 1024;
const latest = new Map<FileName, string>();

export const sharedText = (name: FileName, text: string): string => {
  if (text.length < MIN_LENGTH) return text;
  const held = latest.get(name);
  // Equal texts compare by content (a memcmp, far cheaper than keeping a copy); the first byte
  // that differs ends it (an ACL file differs in its generation line near the top).
  if (held === text) return held;
  latest.set(name, text);
  return text;
};
