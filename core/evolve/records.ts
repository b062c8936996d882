/**
 * Safe access to the state's name-keyed records. Names such as `__proto__` or `constructor` are
 * valid MQTT usernames and role names, so a plain `record[name]` would read Object.prototype or
 * replace the record's prototype. Reads check own properties; writes define own properties.
 */

/** The entry stored under `key`, or undefined; never an inherited property. */
export const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined;

/** Stores `value` under `key` as an own, enumerable property (works for `__proto__` too). */
export const put = <T>(record: Record<string, T>, key: string, value: T): void => {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
};

export const drop = <T>(record: Record<string, T>, key: string): void => {
  if (Object.hasOwn(record, key)) delete record[key];
};

/** Code-unit order: deterministic on every machine, unlike localeCompare. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
