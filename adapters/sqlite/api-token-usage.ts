/**
 * The last use of each API token (issue 17): time and client address, one row per token id.
 * Kept out of the event log (a use changes nothing) and written at most once a minute per token
 * unless the address changes, so a busy CI job costs no write per request.
 */
import type { DatabaseSync } from 'node:sqlite';
import type { TokenUse } from '../../projections/api-token-view.ts';

export type ApiTokenUsage = {
  record(tokenId: string, use: TokenUse, nowMs: number): void;
  lastUse(tokenId: string): TokenUse | null;
};

const QUIET_MS = 60_000;

export const createApiTokenUsage = (deps: Readonly<{ db: DatabaseSync }>): ApiTokenUsage => {
  const upsert = deps.db.prepare(`INSERT INTO api_token_usage (token_id, last_used_at, last_used_ip) VALUES (?, ?, ?)
    ON CONFLICT (token_id) DO UPDATE SET last_used_at = excluded.last_used_at, last_used_ip = excluded.last_used_ip`);
  const read = deps.db.prepare('SELECT last_used_at, last_used_ip FROM api_token_usage WHERE token_id = ?');
  /** What was last written, so most requests write nothing. */
  const written = new Map<string, { ms: number; ip: string }>();
  return {
    record: (tokenId, use, nowMs) => {
      const last = written.get(tokenId);
      if (last && last.ip === use.ip && nowMs - last.ms < QUIET_MS) return;
      upsert.run(tokenId, use.at, use.ip);
      written.set(tokenId, { ms: nowMs, ip: use.ip });
    },
    lastUse: (tokenId) => {
      const row = read.get(tokenId) as { last_used_at: string; last_used_ip: string } | undefined;
      return row ? { at: row.last_used_at, ip: row.last_used_ip } : null;
    },
  };
};
