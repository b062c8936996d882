/** Folding API tokens (issue 17): created with their keyed hash, removed when revoked. */
import type { EventOf } from '../events.ts';
import type { BrokerConfig } from '../state.ts';
import { drop, put } from './records.ts';

export const evolveApiToken = (state: BrokerConfig, event: EventOf<'ApiTokenCreated' | 'ApiTokenRevoked'>, at: string): void => {
  const tokens = (state.apiTokens ??= {});
  if (event.type === 'ApiTokenCreated') put(tokens, event.data.name, { ...event.data, createdAt: at });
  else drop(tokens, event.data.name);
};
