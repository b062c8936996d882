/**
 * One string per distinct timestamp in the state (issue 14: memory). A state read from a
 * snapshot has a string object of its own for every `createdAt` and `updatedAt` — 400,000 of
 * them at 100,000 users and rules — although a batch gives thousands of entries the same time
 * (the bench's state has 7 distinct values). Equal strings are interchangeable, so nothing any
 * reader sees changes; the copies (about 9 MiB there) become garbage for the next GC.
 */
import type { BrokerConfig } from '../../core/state.ts';

type Stamped = { createdAt: string; updatedAt?: string };

/** Returns how many distinct timestamps the state holds. */
export const shareTimestamps = (state: BrokerConfig): number => {
  const pool = new Map<string, string>();
  const one = (s: string): string => {
    const hit = pool.get(s);
    if (hit !== undefined) return hit;
    pool.set(s, s);
    return s;
  };
  const visit = (records: Readonly<Record<string, Stamped>> | undefined): void => {
    if (records === undefined) return;
    for (const r of Object.values(records)) {
      r.createdAt = one(r.createdAt);
      if (r.updatedAt !== undefined) r.updatedAt = one(r.updatedAt);
    }
  };
  visit(state.users);
  visit(state.rules);
  visit(state.roles);
  visit(state.schemas);
  visit(state.adminUsers);
  visit(state.webhooks);
  visit(state.apiTokens);
  return pool.size;
};
