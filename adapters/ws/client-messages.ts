/**
 * What a ws client may send, and what each role may receive (DESIGN §7).
 *
 * Client → server (JSON text frames):
 *   {"subscribe": ["plant/#", "$SYS/broker/load/#"]}   narrow topic_message to these filters
 *   {"unsubscribe": ["plant/#"]}
 * Until the first subscribe a client gets every topic_message; after it, those matching one of
 * its filters (MQTT matching, core/topic-match.ts). Each change is answered with
 * {"type":"subscriptions","filters":[...]}; a bad request with {"type":"error","code",...} and
 * nothing changes.
 *
 * Server → client: the LiveBus messages, as they are, except that what a role may not read over
 * REST it does not get here either: security events and the details of `event_appended` (stream,
 * event type, actor: they name users) go to auditors and above; a viewer gets `event_appended`
 * with only its seq and time, enough to know that something changed.
 */
import { ERROR_CODES } from '../../core/errors.ts';
import type { AdminRole } from '../../core/state.ts';
import { topicFilterProblem } from '../../core/topic-filter.ts';
import { roleAtLeast } from '../http/auth/require-role.ts';
import type { LiveMessage } from '../live/live-bus.ts';

/** Codes of the ws transport itself (the topic filter code is the core's). */
export const WS_ERROR_CODES = {
  MESSAGE_INVALID: 'MCM_ERR_WS_MESSAGE_INVALID',
  SUBPROTOCOL_MISSING: 'MCM_ERR_WS_SUBPROTOCOL_MISSING',
  TOO_MANY_CLIENTS: 'MCM_ERR_WS_TOO_MANY_CLIENTS',
  SHUTTING_DOWN: 'MCM_ERR_WS_SHUTTING_DOWN',
  TOPIC_FILTER_INVALID: ERROR_CODES.TOPIC_FILTER_INVALID,
} as const;

export type ClientRequest =
  | { kind: 'subscribe'; filters: string[] }
  | { kind: 'unsubscribe'; filters: string[] };

export type ClientError = { kind: 'error'; code: string; message: string; details: Record<string, unknown>[] };

const invalid = (message: string, details: Record<string, unknown>[] = []): ClientError =>
  ({ kind: 'error', code: WS_ERROR_CODES.MESSAGE_INVALID, message, details });

/** A parsed JSON value → a request or the error to send back. `maxFilters` bounds one request. */
export const parseClientRequest = (value: unknown, maxFilters: number): ClientRequest | ClientError => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return invalid('a message must be a JSON object: {"subscribe": [filters]} or {"unsubscribe": [filters]}');
  }
  const keys = Object.keys(value);
  const kind = keys[0];
  if (keys.length !== 1 || (kind !== 'subscribe' && kind !== 'unsubscribe')) {
    return invalid('a message must have exactly one key, "subscribe" or "unsubscribe"', [{ keys: keys.slice(0, 10) }]);
  }
  const filters = (value as Record<string, unknown>)[kind];
  if (!Array.isArray(filters) || filters.some((f) => typeof f !== 'string')) {
    return invalid(`"${kind}" must be an array of topic filters (strings)`);
  }
  if (filters.length > maxFilters) {
    return invalid(`at most ${maxFilters} topic filters per client`, [{ count: filters.length, max: maxFilters }]);
  }
  const problems = filters.flatMap((f) => {
    const problem = topicFilterProblem(f);
    return problem === null ? [] : [{ filter: f.slice(0, 256), problem }];
  });
  if (problems.length > 0) {
    return {
      kind: 'error',
      code: WS_ERROR_CODES.TOPIC_FILTER_INVALID,
      message: `invalid topic filter${problems.length > 1 ? 's' : ''}: ${problems.map((p) => `"${p.filter}" (${p.problem})`).join(', ')}`,
      details: problems,
    };
  }
  return { kind, filters: [...new Set(filters as string[])] };
};

/** `full`: the message as published; `redacted`: the viewer's form; `none`: not sent. */
export type Visibility = 'full' | 'redacted' | 'none';

export const visibilityFor = (role: AdminRole, message: LiveMessage): Visibility => {
  switch (message.type) {
    case 'security_event':
      return roleAtLeast(role, 'auditor') ? 'full' : 'none';
    case 'event_appended':
      return roleAtLeast(role, 'auditor') ? 'full' : 'redacted';
    default:
      return 'full';
  }
};

/** The viewer's form of a message whose visibility is `redacted`. */
export const redactedForm = (message: LiveMessage): Record<string, unknown> =>
  message.type === 'event_appended' ? { type: message.type, seq: message.seq, at: message.at } : { type: message.type, at: message.at };
