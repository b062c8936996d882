/**
 * A dependency loaded on first use instead of at import. Every module file a start loads costs
 * time, and the server answers HTTP long before it needs MQTT, YAML or a JSON-schema compiler
 * (issue 14: loading modules was 0.4 s of a 1 s start). Node 24's require() loads CommonJS and ES
 * modules alike, synchronously, so the callers stay synchronous; the module is loaded once.
 */
import { createRequire } from 'node:module';

const load = createRequire(import.meta.url);

export const lazyModule = <T>(specifier: string): (() => T) => {
  let loaded: T | undefined;
  return () => (loaded ??= load(specifier) as T);
};
