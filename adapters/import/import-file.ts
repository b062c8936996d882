/**
 * The files of an import (issue "Adopt an existing Mosquitto"), read as the broker reads them: the
 * bytes on disk, hashed (sha256 hex) so the adoption record names exactly the content planned on.
 * A file that is not UTF-8 is refused with its line (Mosquitto compares bytes; MCM keeps text, and
 * re-encoding would change the bytes the hash promises). Core parses; this module only reads.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import type { BrokerFileKind, ImportFile, ImportProblem } from '../../core/import/import-types.ts';

/** Raised for files MCM cannot import; details are every problem `{file, line, message}` (line 0: the whole file). */
export const IMPORT_INVALID = ERROR_CODES.IMPORT_INVALID;

export const importInvalid = (problems: readonly ImportProblem[], what = 'the files'): DomainError => {
  const n = problems.length;
  const first = problems[0];
  const where = first ? `${first.file}${first.line > 0 ? ` line ${first.line}` : ''}: ${first.message}` : 'no details';
  const message = n === 1 ? `${where}; nothing was changed` : `${what} cannot be imported: ${n} problems (first: ${where}); nothing was changed`;
  return new DomainError(IMPORT_INVALID, message,
    problems.map((p) => ({ file: p.file, line: p.line, message: p.message })));
};

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

const lineAt = (bytes: Uint8Array, offset: number): number => {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line += 1;
  return line;
};

/** The offset of the first byte that is not part of valid UTF-8, or -1. */
const firstInvalidUtf8 = (bytes: Uint8Array): number => {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let lo = 0;
  let hi = bytes.length;
  // Bisect on prefixes: a prefix that decodes holds no bad byte (a cut multibyte character at
  // the end of a prefix is "bad" too, so the search lands on the first truly bad sequence).
  const ok = (end: number): boolean => { try { decoder.decode(bytes.subarray(0, end)); return true; } catch { return false; } };
  if (ok(hi)) return -1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (ok(mid)) lo = mid; else hi = mid;
  }
  return lo;
};

/**
 * One file's bytes as an ImportFile. A BOM is kept (ignoreBOM), so the parsers see and refuse it
 * as the broker would misread it (reference §8).
 */
export const importFileOfBytes = (bytes: Uint8Array, kind: BrokerFileKind | 'mosquitto_conf', path: string | null): ImportFile => {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw importInvalid([{ file: kind, line: lineAt(bytes, at), message: `${path ?? kind} is not valid UTF-8 (byte ${at + 1}): MCM keeps text and cannot promise these bytes back` }]);
  }
  return { text, sha256: sha256Hex(bytes), path };
};

/** JSON strings may hold halves of a UTF-16 pair (`"\\ud800"`), which have no UTF-8 bytes. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** File text that arrived as a string (HTTP JSON): hashed as its UTF-8 bytes. */
export const importFileOfText = (text: string, kind: BrokerFileKind | 'mosquitto_conf', path: string | null = null): ImportFile => {
  const lone = LONE_SURROGATE.exec(text);
  if (lone) {
    const line = text.slice(0, lone.index).split('\n').length;
    throw importInvalid([{ file: kind, line, message: `the ${kind} text holds a lone UTF-16 surrogate: it is not valid UTF-8 text` }]);
  }
  return { text, sha256: sha256Hex(Buffer.from(text, 'utf8')), path };
};

/** Why a file could not be read, in words (`no such file`, `permission denied (…)`). */
export const errnoText = (e: unknown): string => {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied (run mcm as a user that may read it)';
  if (code === 'EISDIR') return 'is a directory';
  return code ?? String(e);
};

/** Reads `path`; an unreadable file refuses the import (line 0). `missingOk`: null when it does not exist. */
export const readImportFile = (path: string, kind: BrokerFileKind | 'mosquitto_conf', opts: { missingOk?: boolean } = {}): ImportFile | null => {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if (opts.missingOk && (e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw importInvalid([{ file: kind, line: 0, message: `cannot read ${path}: ${errnoText(e)}` }], path);
  }
  return importFileOfBytes(bytes, kind, path);
};

/** The actor id of an import: where the files came from (`files:/etc/mosquitto/passwd,/etc/mosquitto/acl`). */
export const filesActorId = (paths: readonly (string | null | undefined)[]): string => {
  const named = paths.filter((p): p is string => typeof p === 'string' && p !== '');
  return named.length > 0 ? `files:${named.join(',')}` : 'files:upload';
};
