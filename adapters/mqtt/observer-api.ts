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
  observer: Pick<Observer, 'status' | 'connected' | 'stats' | 'publish'>;
  clients: Pick<ClientsTable, 'list' | 'recent' | 'size' | 'overflow'>;
  topics: Pick<TopicTree, 'list' | 'get' | 'search' | 'stats'>;
  /** Where connection lines come from (log-sources.ts). */
  logSource: LogSourceKind;
}>;

export const createObserverApi = (parts: ObserverApi): ObserverApi => Object.freeze({ ...parts });
