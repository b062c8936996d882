/** Port interfaces: what the core needs from the world. Adapters implement them. */
import type { Actor, DomainEvent, EventEnvelope } from './events.ts';
import type { BrokerConfig } from './state.ts';

export interface Clock {
  /** ISO-8601 UTC timestamp, e.g. 2026-11-25T03:30:00.000Z */
  now(): string;
}

export type AppendMeta = Readonly<{
  actor: Actor;
  at: string;
  /** The seq the caller decided on (If-Match). Stale when `targetStream` has a newer event. */
  expectedSeq?: number;
  targetStream?: string;
}>;

export type ReadQuery = Readonly<{ after?: number; to?: number; stream?: string; limit?: number }>;

export interface EventStore {
  /** The current folded state. Callers must not mutate it. */
  state(): BrokerConfig;
  /** Seq of the last appended event (0 when empty). */
  headSeq(): number;
  /** Seq of the last event on `stream` (0 when none). */
  lastSeqOf(stream: string): number;
  /**
   * Append a batch in one transaction (all or nothing), extend the hash chain, fold the events
   * into the state, then notify listeners. Throws DomainError MCM_ERR_STALE_STREAM when stale.
   */
  append(events: readonly DomainEvent[], meta: AppendMeta): EventEnvelope[];
  /** Envelopes in seq order, upcast to the current payload versions. */
  read(query?: ReadQuery): EventEnvelope[];
  /** Called synchronously after each committed append. Returns an unsubscribe function. */
  onAppend(listener: (recorded: readonly EventEnvelope[]) => void): () => void;
}

export interface PasswordHasher {
  /** A Mosquitto hash field: `$7$<iterations>$<salt b64>$<hash b64>` (PBKDF2-SHA512). */
  hash(password: string, iterations: number): Promise<string>;
  /** Verifies against a `$7$` or legacy `$6$` hash field. */
  verify(password: string, hashField: string): Promise<boolean>;
}
