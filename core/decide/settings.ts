/** Deciding broker access settings (DESIGN §5): anonymous access and the `$7$` iteration count. */
import type { CommandOf } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import type { BrokerConfig } from '../state.ts';
import { assertBoolean, show } from './guards.ts';

/**
 * The broker accepts any count ≥ 1 (reference §1.2); the cap keeps a typo from making every
 * CONNECT, and every reload's re-check of connected clients, take seconds.
 */
export const MAX_HASH_ITERATIONS = 10_000_000;

const assertIterations = (value: unknown): number => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_HASH_ITERATIONS) {
    throw new DomainError(
      ERROR_CODES.SETTINGS_INVALID,
      `hashIterations must be an integer from 1 to ${MAX_HASH_ITERATIONS} (got ${show(value)})`,
      [{ field: 'hashIterations', value, min: 1, max: MAX_HASH_ITERATIONS }],
    );
  }
  return value;
};

/** Every given field is checked before anything is emitted; unchanged values emit nothing. */
export const changeSettings = (c: CommandOf<'ChangeSettings'>, state: BrokerConfig): DomainEvent[] => {
  const allowed = c.data.allowAnonymous === undefined ? undefined : assertBoolean(c.data.allowAnonymous, 'allowAnonymous', ERROR_CODES.SETTINGS_INVALID);
  const iterations = c.data.hashIterations === undefined ? undefined : assertIterations(c.data.hashIterations);
  const events: DomainEvent[] = [];
  if (allowed !== undefined && allowed !== state.settings.allowAnonymous) {
    events.push({ type: 'AnonymousAccessChanged', data: { allowed } });
  }
  if (iterations !== undefined && iterations !== state.settings.hashIterations) {
    events.push({ type: 'HashIterationsChanged', data: { iterations } });
  }
  return events;
};
