/**
 * A minimal POSIX ustar writer and reader for MCM backups (docs/operations.md, "Backups"): regular
 * files and directories only, names under 100 bytes, sizes under 8 GiB. Written by hand so the
 * archive needs no npm package, and plain tar so an operator can inspect it with `tar tvf`.
 *
 * Layout of one entry (POSIX.1-1988 ustar, as in GNU tar's tar.h): a 512-byte header (name, mode,
 * uid, gid, size, mtime as octal text; a checksum of the header bytes with the checksum field read
 * as spaces; typeflag '0' file or '5' directory; magic "ustar\0" version "00"), then the data
 * padded with zeros to a multiple of 512. Two zero blocks end the archive.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

export const BLOCK = 512;
const CHUNK = 1024 * 1024;
const MAX_SIZE = 0o77777777777; // 11 octal digits

export type TarEntryType = 'file' | 'directory';

export type TarEntry = Readonly<{
  name: string;
  type: TarEntryType;
  mode: number;
  size: number;
  mtime: number;
  /** Byte offset of the entry's data in the archive. */
  offset: number;
}>;

/** An archive that is not a well-formed ustar stream of files and directories. */
export class TarFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TarFormatError';
  }
}

const octal = (value: number, width: number): string => `${value.toString(8).padStart(width - 1, '0')}\0`;

const header = (name: string, type: TarEntryType, mode: number, size: number, mtime: number): Buffer => {
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length === 0 || nameBytes.length >= 100) throw new Error(`tar: entry name must be 1..99 bytes: ${JSON.stringify(name)}`);
  if (size > MAX_SIZE) throw new Error(`tar: ${name} is larger than 8 GiB`);
  const h = Buffer.alloc(BLOCK);
  nameBytes.copy(h, 0);
  h.write(octal(mode & 0o7777, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1'); // uid: owners are set on restore, not taken from the archive
  h.write(octal(0, 8), 116, 'latin1'); // gid
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(Math.max(0, Math.floor(mtime)), 12), 136, 'latin1');
  h.write(type === 'file' ? '0' : '5', 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  h.write('root', 265, 'latin1');
  h.write('root', 297, 'latin1');
  h.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
};

const padding = (size: number): number => (BLOCK - (size % BLOCK)) % BLOCK;

export type TarWriter = {
  /** Adds a regular file copied from `sourcePath`; returns its sha256 (hex) and size. */
  addFileFrom(name: string, sourcePath: string, mode: number, mtime: number): { sha256: string; size: number };
  addBuffer(name: string, data: Buffer, mode: number, mtime: number): { sha256: string; size: number };
  addDirectory(name: string, mode: number, mtime: number): void;
  /** Writes the two end blocks. The caller fsyncs and closes `fd`. */
  finish(): void;
};

/** Writes entries to an open file descriptor, streaming file contents in 1 MiB chunks. */
export const createTarWriter = (fd: number): TarWriter => {
  const write = (buf: Buffer): void => {
    let done = 0;
    while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done);
  };
  const pad = (size: number): void => {
    const n = padding(size);
    if (n > 0) write(Buffer.alloc(n));
  };
  return {
    addFileFrom(name, sourcePath, mode, mtime) {
      const src = openSync(sourcePath, 'r');
      try {
        const size = fstatSync(src).size;
        write(header(name, 'file', mode, size, mtime));
        const hash = createHash('sha256');
        const buf = Buffer.alloc(CHUNK);
        let copied = 0;
        while (copied < size) {
          const n = readSync(src, buf, 0, Math.min(CHUNK, size - copied), copied);
          if (n === 0) throw new Error(`tar: ${sourcePath} shrank while being archived`);
          const slice = buf.subarray(0, n);
          hash.update(slice);
          write(slice);
          copied += n;
        }
        pad(size);
        return { sha256: hash.digest('hex'), size };
      } finally {
        closeSync(src);
      }
    },
    addBuffer(name, data, mode, mtime) {
      write(header(name, 'file', mode, data.length, mtime));
      write(data);
      pad(data.length);
      return { sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
    },
    addDirectory(name, mode, mtime) {
      write(header(name.endsWith('/') ? name : `${name}/`, 'directory', mode, 0, mtime));
    },
    finish() {
      write(Buffer.alloc(2 * BLOCK));
    },
  };
};

const text = (h: Buffer, start: number, length: number): string => {
  const field = h.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
};

const parseOctal = (h: Buffer, start: number, length: number, what: string): number => {
  const raw = text(h, start, length).trim();
  if (!/^[0-7]+$/.test(raw)) throw new TarFormatError(`tar header: ${what} is not an octal number`);
  return Number.parseInt(raw, 8);
};

/**
 * Lists the entries of the archive at `path`, checking every header's checksum and magic. Only
 * regular files and directories are accepted: a link or device in a backup is refused, never
 * followed. Names are returned as stored; callers decide which names they accept.
 */
export const readTarEntries = (path: string): TarEntry[] => {
  const fd = openSync(path, 'r');
  try {
    const total = fstatSync(fd).size;
    const entries: TarEntry[] = [];
    const h = Buffer.alloc(BLOCK);
    let pos = 0;
    for (;;) {
      if (pos + BLOCK > total) throw new TarFormatError('archive ends without the end-of-archive blocks (truncated?)');
      readSync(fd, h, 0, BLOCK, pos);
      if (h.every((b) => b === 0)) return entries;
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
      if (parseOctal(h, 148, 8, 'checksum') !== sum) throw new TarFormatError(`tar header at byte ${pos}: checksum mismatch (corrupt archive)`);
      if (text(h, 257, 6) !== 'ustar') throw new TarFormatError(`tar header at byte ${pos}: not a ustar header`);
      const prefix = text(h, 345, 155);
      const name = prefix === '' ? text(h, 0, 100) : `${prefix}/${text(h, 0, 100)}`;
      const flag = String.fromCharCode(h[156] ?? 0);
      const type: TarEntryType | null = flag === '0' || flag === '\0' ? 'file' : flag === '5' ? 'directory' : null;
      if (type === null) throw new TarFormatError(`tar entry ${JSON.stringify(name)}: type '${flag}' is not a regular file or directory`);
      const size = parseOctal(h, 124, 12, 'size');
      const offset = pos + BLOCK;
      if (offset + size > total) throw new TarFormatError(`tar entry ${JSON.stringify(name)}: data runs past the end of the archive (truncated?)`);
      entries.push({ name, type, mode: parseOctal(h, 100, 8, 'mode'), size, mtime: parseOctal(h, 136, 12, 'mtime'), offset });
      pos = offset + size + padding(size);
    }
  } finally {
    closeSync(fd);
  }
};

/** Copies one entry's data from the archive into `targetFd`; returns its sha256 (hex). */
export const extractTarEntry = (archivePath: string, entry: TarEntry, targetFd: number): string => {
  const fd = openSync(archivePath, 'r');
  try {
    const hash = createHash('sha256');
    const buf = Buffer.alloc(CHUNK);
    let copied = 0;
    while (copied < entry.size) {
      const n = readSync(fd, buf, 0, Math.min(CHUNK, entry.size - copied), entry.offset + copied);
      if (n === 0) throw new TarFormatError(`tar entry ${JSON.stringify(entry.name)}: unexpected end of archive`);
      const slice = buf.subarray(0, n);
      hash.update(slice);
      let done = 0;
      while (done < n) done += writeSync(targetFd, slice, done, n - done);
      copied += n;
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
};

/** One entry's data, for small entries (the manifest). */
export const readTarEntry = (archivePath: string, entry: TarEntry, maxBytes: number): Buffer => {
  if (entry.size > maxBytes) throw new TarFormatError(`tar entry ${JSON.stringify(entry.name)} is larger than ${maxBytes} bytes`);
  const fd = openSync(archivePath, 'r');
  try {
    const buf = Buffer.alloc(entry.size);
    let got = 0;
    while (got < entry.size) {
      const n = readSync(fd, buf, got, entry.size - got, entry.offset + got);
      if (n === 0) throw new TarFormatError(`tar entry ${JSON.stringify(entry.name)}: unexpected end of archive`);
      got += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
};
