/**
 * Checks a rendered file block by block (issue 14): only blocks without a verdict go through the
 * checker, joined as they are in the file. Sound because every problem the checkers report is a
 * property of one line, except two that the render's structure decides: which `user` block a
 * `topic` line belongs to (each ACL block starts with its own `user` line, reference §2.1) and
 * duplicate usernames in the password file (checked here over every block's keys). When the quick
 * check finds anything, the whole text is checked again so the messages carry the file's line
 * numbers, and that result is the answer. A block is marked `ok` only after a check found nothing.
 */
import type { Block } from './incremental-files.ts';
import type { Problem } from './password-file-check.ts';

export type BlockCheck = Readonly<{
  text: string;
  blocks: readonly Block[];
  /** How the blocks are joined in the file. */
  separator: '' | '\n';
  checker: (text: string) => readonly Problem[];
  /** Every key of every block (`keys`) must be unique (password file: one line per username). */
  uniqueKeys?: boolean;
}>;

const duplicateKey = (blocks: readonly Block[]): string | null => {
  const seen = new Set<string>();
  for (const b of blocks) {
    for (const key of b.keys ?? []) {
      if (seen.has(key)) return key;
      seen.add(key);
    }
  }
  return null;
};

export const checkBlocks = ({ text, blocks, separator, checker, uniqueKeys = false }: BlockCheck): readonly Problem[] => {
  const fresh = blocks.filter((b) => !b.ok);
  const quick = fresh.length ? checker(fresh.map((b) => b.text).join(separator)) : [];
  if (quick.length === 0 && !(uniqueKeys && duplicateKey(blocks) !== null)) {
    for (const b of fresh) b.ok = true;
    return [];
  }
  const problems = checker(text);
  if (problems.length === 0) for (const b of fresh) b.ok = true;
  return problems;
};
