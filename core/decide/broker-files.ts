/**
 * Deciding the adoption of an operator's existing broker files (issue 11). An import becomes the
 * events of its plan (core/import/plan-import.ts), ending with the adoption record; a takeover
 * (`mcm server --force-takeover`) records only that MCM may replace the files it found.
 */
import type { CommandOf } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import { planImport } from '../import/plan-import.ts';
import type { BrokerConfig } from '../state.ts';
import { show } from './guards.ts';

export const importBrokerFiles = (c: CommandOf<'ImportBrokerFiles'>, state: BrokerConfig): DomainEvent[] =>
  planImport(c.data, state, { limit: 0 }).events;

type TakenFile = { file: 'password_file' | 'acl_file'; sha256: string; path: string | null };

const badFiles = (value: unknown): DomainError =>
  new DomainError(
    ERROR_CODES.VALIDATION,
    `files must list {file: "password_file" | "acl_file", sha256: 64 hex digits, path: string | null}, each file once (got ${show(value)})`,
    [{ field: 'files' }],
  );

export const takeOverBrokerFiles = (c: CommandOf<'TakeOverBrokerFiles'>, _state: BrokerConfig): DomainEvent[] => {
  const files: unknown = c.data.files;
  if (!Array.isArray(files) || files.length === 0) throw badFiles(files);
  const seen = new Set<string>();
  const checked: TakenFile[] = files.map((f: unknown) => {
    const t = f as Partial<TakenFile> | null;
    const ok = t !== null && typeof t === 'object' && (t.file === 'password_file' || t.file === 'acl_file') && !seen.has(t.file)
      && typeof t.sha256 === 'string' && /^[0-9a-f]{64}$/.test(t.sha256) && (t.path === undefined || t.path === null || typeof t.path === 'string');
    if (!ok) throw badFiles(files);
    seen.add(t.file as string);
    return { file: t.file as TakenFile['file'], sha256: t.sha256 as string, path: t.path ?? null };
  });
  return [{ type: 'BrokerFilesAdopted', data: { files: checked, how: 'takeover' } }];
};
