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

/** What a decision inside the store's write transaction may read (see EventStore.transact). */
export type StoreView = Readonly<{
  state: BrokerConfig;
  headSeq: number;
  lastSeqOf(stream: string): number;
}>;

export type ReadQuery = Readonly<{ after?: number; to?: number; stream?: string; limit?: number }>;

export type GroupItem<T> = Readonly<{
  decide: (view: StoreView) => readonly DomainEvent[];
  meta: Omit<AppendMeta, 'expectedSeq' | 'targetStream'>;
  capture?: (state: BrokerConfig, recorded: readonly EventEnvelope[]) => T;
}>;

export type GroupOutcome<T> = Readonly<{ recorded: EventEnvelope[]; captured: T | undefined }> | Readonly<{ error: Error }>;

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
  /**
   * Decides and appends in ONE write transaction (one writer per database, not per process): takes
   * the database's write lock, folds in what other connections appended since, calls `decide` on
   * that state and appends what it returns. Two processes deciding on the same data dir are
   * serialised, so neither decides on a state the other has already changed (two `mcm acl add`
   * can't both take rule id 7). A throwing `decide` appends nothing; [] appends nothing.
   */
  transact(decide: (view: StoreView) => readonly DomainEvent[], meta: Omit<AppendMeta, 'expectedSeq' | 'targetStream'>): EventEnvelope[];
  /**
   * Several `transact`s in ONE write transaction, in order (group commit, issue 14): each decides
   * on the state with the items before it folded in. An item whose decide throws a DomainError
   * appends nothing and gets that error; the others go on. Any other error (storage, a fold that
   * throws) rolls the whole group back and is thrown. One COMMIT, so one fsync, for all of them.
   * `capture` reads what the item's caller answers with, right after its events are folded.
   */
  transactGroup<T>(items: readonly GroupItem<T>[]): GroupOutcome<T>[];
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
