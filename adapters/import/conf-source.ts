/**
 * Where the files a mosquitto.conf names come from, for `mcm import --conf` and `POST /import`:
 * the disk (the CLI reads what the operator points it at) or the texts posted with the request
 * (the server never reads a path named in a posted conf: that would let a request read any file
 * the server may). Both answer by the path as the conf writes it, so one reader serves both.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isDomainError } from '../../core/errors.ts';
import { errnoText, importFileOfBytes } from './import-file.ts';

export type ConfSource = Readonly<{
  /** The path messages and actor ids show for `named` (a path as the conf writes it). */
  pathOf(named: string): string;
  /** The file's text, or why it cannot be had (`no such file`, `permission denied (…)`). */
  read(named: string): { text: string } | { problem: string };
  /** The `.conf` files of an include_dir, as `<dir>/<name>` in the broker's order, or why not. */
  list(dir: string): string[] | { problem: string };
}>;

/** Mosquitto sorts include_dir entries case-insensitively (conf.c scmp_p). */
export const byConfName = (a: string, b: string): number => {
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : a < b ? -1 : a > b ? 1 : 0;
};

const under = (dir: string, name: string): string => `${dir.replace(/\/+$/, '')}/${name}`;

/**
 * The disk, from the main conf's directory: a relative path is taken against it (the broker takes
 * it against its working directory, which mcm cannot know; configs that work from anywhere use
 * absolute paths). Files must be UTF-8 (import-file.ts: MCM keeps text).
 */
export const diskConfSource = (confPath: string): ConfSource => {
  const pathOf = (named: string): string => (isAbsolute(named) ? named : resolve(dirname(confPath), named));
  return {
    pathOf,
    read(named) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(pathOf(named));
      } catch (e) {
        return { problem: `cannot read ${pathOf(named)}: ${errnoText(e)}` };
      }
      try {
        return { text: importFileOfBytes(bytes, 'mosquitto_conf', pathOf(named)).text };
      } catch (e) {
        if (isDomainError(e)) return { problem: String(e.details[0]?.['message'] ?? e.message) };
        throw e;
      }
    },
    list(dir) {
      let names: string[];
      try {
        names = readdirSync(pathOf(dir));
      } catch (e) {
        return { problem: `include_dir ${pathOf(dir)} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` };
      }
      return names
        .filter((n) => n.endsWith('.conf'))
        .sort(byConfName)
        .filter((n) => { try { return statSync(join(pathOf(dir), n)).isFile(); } catch { return false; } })
        .map((n) => under(dir, n));
    },
  };
};

/**
 * Texts posted with the request (`conf_files`), by the path as the conf writes it: an
 * include_dir's files are the entries `<dir>/<name>.conf`. A file that was not sent is a
 * problem that says so; nothing is read from the server's disk.
 */
export const postedConfSource = (files: Readonly<Record<string, string>>): ConfSource => ({
  pathOf: (named) => named,
  read(named) {
    if (Object.hasOwn(files, named)) return { text: files[named] as string };
    return { problem: `${named} was not sent: the server never reads files a posted mosquitto.conf names, so send its contents in conf_files (mcm import --conf does)` };
  },
  list(dir) {
    const prefix = under(dir, '');
    return Object.keys(files)
      .filter((k) => k.startsWith(prefix) && k.endsWith('.conf') && !k.slice(prefix.length).includes('/'))
      .sort((a, b) => byConfName(a.slice(prefix.length), b.slice(prefix.length)));
  },
});
