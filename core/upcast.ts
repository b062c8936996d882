/**
 * Upcasting on read (DESIGN §4): a stored row keeps the payload version it was written with; the
 * store calls `upcast` so everything downstream sees only current payloads. Rows are never rewritten.
 */
import { DomainError, ERROR_CODES } from './errors.ts';
import { EVENT_VERSION, isEventType, type DomainEvent, type EventType } from './events.ts';

type Step = (data: unknown) => unknown;

/**
 * `UPCASTERS[type][v]` turns a version-v payload into version v+1. Every type is at version 1, so
 * the table is empty; when a payload changes, bump EVENT_VERSION and add the step here.
 */
const UPCASTERS: Partial<Record<EventType, Readonly<Record<number, Step>>>> = {};

/** The payload of a stored event at its type's current version. */
export const upcast = (type: string, version: number, data: unknown): DomainEvent['data'] => {
  if (!isEventType(type)) {
    throw new DomainError(ERROR_CODES.EVENT_UNKNOWN, `event type "${type}" is unknown to this version of MCM`, [{ type, version }]);
  }
  const current = EVENT_VERSION[type];
  if (!Number.isSafeInteger(version) || version < 1 || version > current) {
    throw new DomainError(
      ERROR_CODES.EVENT_UNKNOWN,
      `event ${type} version ${version} is unknown to this version of MCM (it reads versions 1 to ${current})`,
      [{ type, version, current }],
    );
  }
  let out = data;
  for (let v = version; v < current; v++) {
    const step = UPCASTERS[type]?.[v];
    if (!step) {
      throw new DomainError(ERROR_CODES.EVENT_UNKNOWN, `no upcaster from ${type} version ${v} to ${v + 1}`, [{ type, version: v }]);
    }
    out = step(out);
  }
  return out as DomainEvent['data'];
};
