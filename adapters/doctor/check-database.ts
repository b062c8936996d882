/**
 * The event log: SQLite's integrity check and the hash chain (DESIGN §4). Read-only, so it is
 * safe while `mcm server` runs. No database yet is fine: the server creates it at first start.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkDatabaseFile } from '../backup/check-database.ts';
import { SCHEMA_VERSION } from '../sqlite/schema.ts';
import { fail, pass, type CheckResult } from './check-result.ts';

export const checkEventLog = (dataDir: string): CheckResult => {
  const path = join(dataDir, 'mcm.db');
  if (!existsSync(path)) return pass('database', `no event log at ${path} yet; the server creates it at first start`);
  const r = checkDatabaseFile(path);
  const restore = 'restore the latest good backup (`mcm backup restore --input FILE --force`, server stopped); `mcm events verify` names the first bad seq';
  if (!r.ok) {
    if (r.failed === 'open') return fail('database', r.problem, `is ${path} an MCM database? ${restore}`);
    return fail('database', `${path}: ${r.problem}`, restore);
  }
  if (r.schema_version > SCHEMA_VERSION) {
    return fail('database', `${path} has schema version ${r.schema_version}, newer than this MCM (${SCHEMA_VERSION})`, 'upgrade MCM, or restore a backup made by this version');
  }
  return pass('database', `${path}: integrity ok, hash chain intact (${r.count} event${r.count === 1 ? '' : 's'}, head seq ${r.seq})`);
};
