/**
 * The global options of the catalog (core/broker-config/catalog.ts) as the broker reads them from
 * mosquitto.conf (src/conf.c): booleans are true/1 and false/0, numbers are C `atoi` of the next
 * word, and out-of-range values are clamped or refused exactly where the broker clamps or refuses
 * them, so the imported value is the one the broker was running with. The catalog's own limits are
 * checked afterwards by validateBrokerConfig.
 */
import { globalDirective } from '../broker-config/catalog.ts';
import type { OptionValue } from '../broker-config/model.ts';

/** MQTT's largest payload (conf.c MQTT_MAX_PAYLOAD). */
const MAX_PAYLOAD = 268_435_455;
const UINT16 = 65_535;

export type OptionRead = Readonly<{ value?: OptionValue; problem?: string; warning?: Readonly<{ code: string; message: string }> }>;

/** C atoi: leading blanks, a sign, digits; 0 when there are none (clamped to int32). */
export const atoi = (s: string): number => {
  const m = /^[\t\n\v\f\r ]*([+-]?\d+)/.exec(s);
  if (!m) return 0;
  return Math.max(-2_147_483_648, Math.min(2_147_483_647, Number(m[1])));
};

/** conf__parse_bool: true/1, false/0; anything else the broker refuses. */
export const boolOf = (token: string | null): boolean | null =>
  (token === 'true' || token === '1' ? true : token === 'false' || token === '0' ? false : null);

/** How the broker takes each number (conf.c), or why it refuses it. */
const INT_RULES: Readonly<Record<string, (n: number) => number | string>> = {
  autosave_interval: (n) => Math.max(n, 0),
  max_inflight_messages: (n) => (n < 0 || n === UINT16 ? 0 : n > UINT16 ? `max_inflight_messages must be at most ${UINT16}` : n),
  max_queued_messages: (n) => Math.max(n, 0),
  message_size_limit: (n) => (n < 0 || n > MAX_PAYLOAD ? `invalid message_size_limit ${n} (0–${MAX_PAYLOAD})` : n),
  max_packet_size: (n) => (n < 20 ? `invalid max_packet_size ${n} (at least 20)` : n),
  max_keepalive: (n) => (n < 0 || n > UINT16 ? `invalid max_keepalive ${n} (0–${UINT16})` : n),
  sys_interval: (n) => (n < 0 || n > UINT16 ? `invalid sys_interval ${n} (0–${UINT16})` : n),
};

/** `name` is a catalog directive (`word` as written, e.g. retained_persistence); `token` the word after it. */
export const readOption = (name: string, token: string | null, word = name): OptionRead => {
  const d = globalDirective(name);
  if (d === undefined) return { problem: `${word} is not a catalog option` };
  if (token === null) return { problem: `${word} without a value (the broker refuses it)` };
  if (d.kind.type === 'bool') {
    const b = boolOf(token);
    return b === null ? { problem: `${word} must be true or false (got ${JSON.stringify(token)})` } : { value: b };
  }
  const rule = INT_RULES[name] ?? ((n: number) => n);
  const n = rule(atoi(token));
  if (typeof n === 'string') return { problem: `${n} (the broker refuses it)` };
  if (name === 'sys_interval' && n === 0) {
    return { warning: { code: 'sys_interval_zero', message: 'sys_interval 0 turns $SYS updates off; MCM reads them (dashboard, clients), so its default of 10 seconds is kept' } };
  }
  return { value: n };
};
