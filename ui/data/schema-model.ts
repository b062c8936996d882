/**
 * The Schemas screen's pure logic (DESIGN §5, §7): the JSON text of a schema checked before it is
 * sent (the server then compiles it with ajv), the server's error details as lines, and the live
 * counters: GET /json-schemas carries valid_count, invalid_count and last_violation; a live
 * `schema_violation` message bumps them between two reads. No DOM: tested under node:test.
 */
export type ViolationError = { path: string; message: string };
export type SchemaViolation = { topic: string; at: string; errors: ViolationError[]; payload_preview?: string };

export type JsonSchemaItem = {
  id: number;
  name: string;
  topic_filter: string;
  schema: unknown;
  enabled: boolean;
  description: string;
  created_at: string;
  updated_at: string;
  /** Present when the server runs the observer's validator. */
  valid_count?: number;
  invalid_count?: number;
  last_violation?: SchemaViolation | null;
};

export const SCHEMA_TEMPLATE = `{
  "type": "object",
  "required": ["value"],
  "properties": {
    "value": { "type": "number" }
  }
}`;

export type ParsedSchema = { ok: true; value: object | boolean } | { ok: false; problem: string };

/** Line and column (1-based) of a character offset. */
export const lineColumn = (text: string, offset: number): { line: number; column: number } => {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1] ?? '').length + 1 };
};

/**
 * Where JSON text first goes wrong (a character offset; the length for a text that ends too
 * early), or -1 when it is valid. The browser's JSON.parse names no position for most errors.
 */
export const jsonErrorOffset = (text: string): number => {
  let i = 0;
  const fail = (): never => { throw i; };
  const ws = (): void => { while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++; };
  const str = (): void => {
    i++;
    while (i < text.length) {
      const ch = text[i] as string;
      if (ch === '"') { i++; return; }
      if (ch === '\\') {
        const next = text[i + 1] ?? '';
        if ('"\\/bfnrt'.includes(next) && next !== '') i += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else fail();
        continue;
      }
      if (ch < ' ') fail();
      i++;
    }
    fail();
  };
  const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str(); ws();
        if (text[i] !== ':') fail();
        i++; value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail();
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail();
      }
    }
    if (c === '"') { str(); return; }
    NUMBER.lastIndex = i;
    if (NUMBER.exec(text)) { i = NUMBER.lastIndex; return; }
    for (const lit of ['true', 'false', 'null']) if (text.startsWith(lit, i)) { i += lit.length; return; }
    fail();
  };
  try {
    value(); ws();
    if (i < text.length) fail();
    return -1;
  } catch (e) {
    return typeof e === 'number' ? e : -1; // a RangeError: nested too deep to scan (the parser still said why)
  }
};

/**
 * The schema text as a value, or why it can't be one: not JSON (with the line and column of the
 * first error), or JSON that is neither an object nor a boolean (a JSON Schema is one of those).
 */
export const parseSchemaText = (text: string): ParsedSchema => {
  if (text.trim() === '') return { ok: false, problem: 'enter a JSON Schema (an object such as {"type": "object"})' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const at = jsonErrorOffset(text);
    if (at < 0) return { ok: false, problem: `not valid JSON: ${(err as Error).message}` };
    const { line, column } = lineColumn(text, at);
    const what = at >= text.length ? 'the text ends too early (a missing "}", "]" or quote?)' : `unexpected ${JSON.stringify(text[at])}`;
    return { ok: false, problem: `not valid JSON at line ${line}, column ${column}: ${what}` };
  }
  if (typeof value === 'boolean') return { ok: true, value };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, problem: `a JSON Schema must be an object or a boolean, not ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}` };
  }
  return { ok: true, value };
};

/** An API error's details (ajv or request validation) as readable lines. */
export const detailLines = (details: readonly unknown[]): string[] =>
  details.flatMap((d) => {
    if (d === null || typeof d !== 'object') return typeof d === 'string' ? [d] : [];
    const o = d as Record<string, unknown>;
    const message = typeof o['message'] === 'string' ? o['message'] : null;
    const path = typeof o['path'] === 'string' ? o['path'] : typeof o['instancePath'] === 'string' ? o['instancePath'] : null;
    if (message) return [path && !message.startsWith(path) ? `${path}: ${message}` : message];
    const field = typeof o['field'] === 'string' ? o['field'] : null;
    const problem = typeof o['problem'] === 'string' ? o['problem'] : null;
    if (field && problem) return [`${field}: ${problem}`];
    return [];
  });

/** A live `schema_violation` message, checked; null when malformed. */
export const parseViolationMessage = (m: Record<string, unknown>): { schemaId: number; violation: SchemaViolation } | null => {
  const id = m['schema_id'];
  if (typeof id !== 'number' || typeof m['topic'] !== 'string') return null;
  const errors = Array.isArray(m['errors'])
    ? m['errors'].flatMap((e) => (e && typeof e === 'object' && typeof (e as ViolationError).message === 'string'
      ? [{ path: typeof (e as ViolationError).path === 'string' ? (e as ViolationError).path : '/', message: (e as ViolationError).message }]
      : []))
    : [];
  return { schemaId: id, violation: { topic: m['topic'], at: typeof m['at'] === 'string' ? m['at'] : new Date(0).toISOString(), errors } };
};

/** The list after a live violation: that schema's invalid count + 1 and its last violation. */
export const applyViolation = (items: readonly JsonSchemaItem[], schemaId: number, v: SchemaViolation): JsonSchemaItem[] =>
  items.map((s) => (s.id === schemaId
    ? { ...s, invalid_count: (s.invalid_count ?? 0) + 1, last_violation: v }
    : s));

const later = (a: SchemaViolation | null | undefined, b: SchemaViolation | null | undefined): SchemaViolation | null => {
  if (!a) return b ?? null;
  if (!b) return a;
  return Date.parse(b.at) >= Date.parse(a.at) ? b : a;
};

/**
 * A fresh read merged with what the screen holds: the server's list and fields win, but a counter
 * bumped live after the server computed its answer is not taken back (same definition, i.e. the
 * same updated_at; the server resets counters when the filter or body changes).
 */
export const mergeSchemaList = (held: readonly JsonSchemaItem[], fresh: readonly JsonSchemaItem[]): JsonSchemaItem[] => {
  const byId = new Map(held.map((s) => [s.id, s]));
  return fresh.map((f) => {
    const h = byId.get(f.id);
    if (!h || h.updated_at !== f.updated_at || f.invalid_count === undefined) return f;
    return {
      ...f,
      invalid_count: Math.max(f.invalid_count, h.invalid_count ?? 0),
      valid_count: Math.max(f.valid_count ?? 0, h.valid_count ?? 0),
      last_violation: later(h.last_violation, f.last_violation),
    };
  });
};

/** Share of invalid payloads as "12.5 %" (or "—" before any payload). */
export const invalidShare = (s: JsonSchemaItem): string => {
  const v = s.valid_count ?? 0;
  const i = s.invalid_count ?? 0;
  if (v + i === 0) return '—';
  const pct = (i / (v + i)) * 100;
  return `${pct < 10 && pct > 0 ? pct.toFixed(1) : Math.round(pct)} %`;
};
