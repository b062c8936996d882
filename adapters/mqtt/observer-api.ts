/**
 * What the HTTP routes (GET /status, /clients, /topics; POST /broker/publish; DELETE
 * /retained/{topic}) read from the observer side, in one object: HttpDeps.observer. Built by
 * adapters/main.ts from the running observer, clients table and topic tree.
 */
import type { ClientsTable } from '../observer/clients-table.ts';
import type { TopicTree } from '../observer/topic-tree.ts';
import type { LogSourceKind } from './log-sources.ts';
import type { Observer } from './observer.ts';

export type ObserverApi = Readonly<{
  observer: Pick<Observer, 'status' | 'connected' | 'stats' | 'statsHistory' | 'publish'>;
  clients: Pick<ClientsTable, 'list' | 'recent' | 'size' | 'overflow'>;
  topics: Pick<TopicTree, 'list' | 'get' | 'search' | 'stats'>;
  /** Where connection lines come from (log-sources.ts). */
  logSource: LogSourceKind;
}>;

export const createObserverApi = (parts: ObserverApi): ObserverApi => Object.freeze({ ...parts });

/**
 * What a ws client gets first on connect (DESIGN §7: "a snapshot (status, stats, clients)"). The
 * caller adds the apply status: `{ ...s, status: { ...s.status, apply: applyLoop.status() } }`.
 */
export const observerSnapshot = (api: ObserverApi): { status: Record<string, unknown>; stats: Record<string, unknown>; clients: unknown[] } => {
  const st = api.observer.status();
  const stats = api.observer.stats();
  return {
    status: {
      broker: { up: api.observer.connected(), version: stats.version, uptime_s: stats.uptime_s, since: st.since, reason: st.reason },
      observer: st,
      topics: api.topics.stats(),
    },
    stats: { values: stats.values, figures: stats.figures, updated_at: stats.updated_at },
    clients: api.clients.list(),
  };
};
