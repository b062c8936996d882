/**
 * The data dir (DESIGN §4: mcm.db, secrets/, the supervised broker's files): can MCM write there,
 * and is there room for the log to grow? A missing data dir is created at first start, so only
 * its nearest existing parent must be writable.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail, formatBytes, pass, warn, type CheckResult } from './check-result.ts';

/** Below this the log, the WAL and a backup snapshot may not fit: fail. */
export const MIN_FREE_BYTES = 64 * 1024 * 1024;
/** Below this, say so. */
export const LOW_FREE_BYTES = 512 * 1024 * 1024;

const nearestExisting = (path: string): string => {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
};

const who = (): string => `uid ${process.getuid?.() ?? '?'}`;

export const checkDataDirWritable = (dataDir: string): CheckResult => {
  const hint = `make ${dataDir} writable by the user running MCM (${who()}), or point data_dir / MCM_DATA_DIR elsewhere`;
  if (!existsSync(dataDir)) {
    const parent = nearestExisting(dataDir);
    try {
      accessSync(parent, constants.W_OK | constants.X_OK);
      return pass('data-dir', `${dataDir} does not exist yet; MCM creates it at first start (${parent} is writable)`);
    } catch {
      return fail('data-dir', `${dataDir} does not exist and ${parent} is not writable, so MCM cannot create it`, hint);
    }
  }
  const probe = join(dataDir, `.mcm-doctor-${randomBytes(6).toString('hex')}`);
  try {
    writeFileSync(probe, '', { flag: 'wx', mode: 0o600 });
    unlinkSync(probe);
    return pass('data-dir', `${dataDir} is writable`);
  } catch (e) {
    return fail('data-dir', `cannot write in ${dataDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, hint);
  }
};

export const checkFreeSpace = (dataDir: string, statfs: (p: string) => { bavail: number; bsize: number } = statfsSync): CheckResult => {
  const at = nearestExisting(dataDir);
  let free: number;
  try {
    const s = statfs(at);
    free = Number(s.bavail) * Number(s.bsize);
  } catch (e) {
    return warn('free-space', `cannot tell the free space at ${at}: ${(e as Error).message}`, 'check the filesystem with df');
  }
  const hint = `free space on the filesystem of ${at} (the event log, its WAL and backup snapshots live there), or move data_dir`;
  if (free < MIN_FREE_BYTES) return fail('free-space', `only ${formatBytes(free)} free at ${at} (need at least ${formatBytes(MIN_FREE_BYTES)})`, hint);
  if (free < LOW_FREE_BYTES) return warn('free-space', `${formatBytes(free)} free at ${at} (low)`, hint);
  return pass('free-space', `${formatBytes(free)} free at ${at}`);
};
