/**
 * The apply loop's checkpoint (DESIGN §6): one row per apply attempt in `apply_results`, and the
 * files the broker last confirmed in `last_good_files` (restored when a new apply fails). A
 * success and its last-good files are written in one transaction, after confirmation only, so a
 * crash before it means the next start applies again (harmless: rendering is deterministic).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';

/** The secrets/ file holding the last-known-good files' HMAC key. */
export const GOOD_FILES_KEY_NAME = 'good-files.key';

/** HMAC-SHA256 over a last-known-good record: its name, generation, sha256 and content. */
export const goodFileMac = (key: Buffer, f: Readonly<{ name: string; generation: number; sha256: string; content: string }>): string =>
  createHmac('sha256', key).update(`${f.name}\n${f.generation}\n${f.sha256}\n`).update(f.content).digest('hex');

const sameHex = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export type GoodFilesDeps = Readonly<{
  /**
   * The HMAC key (secrets/good-files.key). Records are written with their HMAC and trusted only
   * when it matches; without a key (a CLI that can't read secrets/) none is trusted.
   */
  key?: Buffer | null;
  /** A record whose HMAC does not match was ignored (a security event for the server). */
  onRejected?: (name: string, reason: string) => void;
}>;

export type ApplyResultKind = 'applied' | 'written' | 'failed';

export type ApplyResultRow = {
  id: number;
  generation: number;
  result: ApplyResultKind;
  reason: string | null;
  latency_ms: number | null;
  password_sha256: string | null;
  acl_sha256: string | null;
  at: string;
};

export type ApplyResultInput = Readonly<{
  generation: number;
  result: ApplyResultKind;
  reason?: string | null;
  latencyMs?: number | null;
  passwordSha256?: string | null;
  aclSha256?: string | null;
  at: string;
}>;

export type GoodFile = Readonly<{ name: string; generation: number; sha256: string; content: string }>;

/**
 * Content whose apply failed open (issue 12): the files MCM rendered were written, the probe saw
 * enforcement off, and the last-known-good files were put back. An apply that renders the same
 * content again is not written until the content changes or an admin retries (which lifts it).
 */
export type QuarantineRow = Readonly<{ content_sha256: string; generation: number; reason: string; at: string }>;

export type ApplyResults = {
  record(input: ApplyResultInput): ApplyResultRow;
  /** Records a success and replaces the last-good files, atomically. */
  recordGood(input: ApplyResultInput, files: readonly GoodFile[]): ApplyResultRow;
  last(): ApplyResultRow | null;
  /** The newest `applied` or `written` row: what the broker (or disk) has. */
  lastSuccess(): ApplyResultRow | null;
  recent(limit?: number): ApplyResultRow[];
  lastGoodFiles(): Map<string, GoodFile>;
  /** Records a failed apply and quarantines its content, atomically. */
  recordQuarantined(input: ApplyResultInput, q: QuarantineRow): ApplyResultRow;
  /** The quarantine of this content, or null. */
  quarantined(contentSha256: string): QuarantineRow | null;
  /** Whether anything is quarantined (spares hashing the render when nothing is). */
  anyQuarantined(): boolean;
  /** Lifts every quarantine (an admin's retry); returns how many were lifted. */
  liftQuarantine(): number;
};

export const createApplyResults = ({ db, key = null, onRejected }: { db: DatabaseSync } & GoodFilesDeps): ApplyResults => {
  const insert = db.prepare(
    'INSERT INTO apply_results (generation, result, reason, latency_ms, password_sha256, acl_sha256, at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
  );
  const lastStmt = db.prepare('SELECT * FROM apply_results ORDER BY id DESC LIMIT 1');
  const lastSuccessStmt = db.prepare("SELECT * FROM apply_results WHERE result IN ('applied', 'written') ORDER BY id DESC LIMIT 1");
  const recentStmt = db.prepare('SELECT * FROM apply_results ORDER BY id DESC LIMIT ?');
  const goodStmt = db.prepare('SELECT name, generation, sha256, content, mac FROM last_good_files');
  const putGood = db.prepare(
    'INSERT INTO last_good_files (name, generation, sha256, content, mac) VALUES (?, ?, ?, ?, ?) ' +
    'ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, sha256 = excluded.sha256, content = excluded.content, mac = excluded.mac',
  );

  /** The records whose HMAC matches; the others are reported and left out (as if never confirmed). */
  const trustedGoodFiles = (): Map<string, GoodFile> => {
    const out = new Map<string, GoodFile>();
    for (const row of goodStmt.all() as unknown as (GoodFile & { mac: string | null })[]) {
      const { mac, ...f } = row;
      if (key === null) continue;
      if (mac === null || !sameHex(mac, goodFileMac(key, f))) {
        onRejected?.(f.name, mac === null ? 'it carries no HMAC' : 'its content does not match its HMAC: it was edited');
        continue;
      }
      out.set(f.name, { ...f });
    }
    return out;
  };

  const putQuarantine = db.prepare(
    'INSERT INTO apply_quarantine (content_sha256, generation, reason, at) VALUES (?, ?, ?, ?) ' +
    'ON CONFLICT (content_sha256) DO UPDATE SET generation = excluded.generation, reason = excluded.reason, at = excluded.at',
  );
  const quarantineStmt = db.prepare('SELECT content_sha256, generation, reason, at FROM apply_quarantine WHERE content_sha256 = ?');
  const anyQuarantineStmt = db.prepare('SELECT 1 AS one FROM apply_quarantine LIMIT 1');
  const liftStmt = db.prepare('DELETE FROM apply_quarantine');

  const transaction = <T>(fn: () => T): T => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      db.exec('COMMIT');
      return out;
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw e;
    }
  };

  const record = (i: ApplyResultInput): ApplyResultRow =>
    insert.get(i.generation, i.result, i.reason ?? null, i.latencyMs ?? null, i.passwordSha256 ?? null, i.aclSha256 ?? null, i.at) as unknown as ApplyResultRow;

  return {
    record,
    recordGood(input, files) {
      db.exec('BEGIN IMMEDIATE');
      try {
        for (const f of files) putGood.run(f.name, f.generation, f.sha256, f.content, key === null ? null : goodFileMac(key, f));
        const row = record(input);
        db.exec('COMMIT');
        return row;
      } catch (e) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw e;
      }
    },
    last: () => (lastStmt.get() as unknown as ApplyResultRow | undefined) ?? null,
    lastSuccess: () => (lastSuccessStmt.get() as unknown as ApplyResultRow | undefined) ?? null,
    recent: (limit = 20) => recentStmt.all(limit) as unknown as ApplyResultRow[],
    lastGoodFiles: trustedGoodFiles,
    recordQuarantined: (input, q) => transaction(() => {
      putQuarantine.run(q.content_sha256, q.generation, q.reason, q.at);
      return record(input);
    }),
    quarantined: (contentSha256) => {
      const row = quarantineStmt.get(contentSha256) as unknown as QuarantineRow | undefined;
      return row ? { ...row } : null;
    },
    anyQuarantined: () => anyQuarantineStmt.get() !== undefined,
    liftQuarantine: () => Number(liftStmt.run().changes),
  };
};

/**
 * Signs the records written before they carried an HMAC, once, when the key is new (an upgrade):
 * trust on first use, so an upgraded server does not take its own files for foreign ones.
 */
export const signUnsignedGoodFiles = (db: DatabaseSync, key: Buffer): number => {
  const rows = db.prepare('SELECT name, generation, sha256, content FROM last_good_files WHERE mac IS NULL').all() as unknown as GoodFile[];
  const put = db.prepare('UPDATE last_good_files SET mac = ? WHERE name = ?');
  for (const f of rows) put.run(goodFileMac(key, f), f.name);
  return rows.length;
};

/** Every record's HMAC (`mcm events verify`). */
export const verifyGoodFiles = (db: DatabaseSync, key: Buffer | null): { checked: number; bad: { name: string; reason: string }[] } => {
  const rows = db.prepare('SELECT name, generation, sha256, content, mac FROM last_good_files ORDER BY name').all() as unknown as (GoodFile & { mac: string | null })[];
  const bad: { name: string; reason: string }[] = [];
  for (const { mac, ...f } of rows) {
    if (key === null) bad.push({ name: f.name, reason: `cannot be checked: secrets/${GOOD_FILES_KEY_NAME} is missing or unreadable` });
    else if (mac === null || !sameHex(mac, goodFileMac(key, f))) bad.push({ name: f.name, reason: 'its content does not match its HMAC: it was edited' });
  }
  return { checked: rows.length, bad };
};
