/**
 * The JSON Schema of the GitOps files (STYLE principle 5: Ajv checks shape at the edge; the core
 * checks names, filters and references in core/gitops-bundle.ts). Unknown keys are refused — a
 * typo such as `pasword_hash` must not be silently dropped — and allErrors reports every problem.
 */
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { ajv2020Module } from '../modules/ajv.ts';
import { ACCESS_VALUES } from '../../core/acl-types.ts';
import { GITOPS_FORMAT_VERSION, GITOPS_SECTIONS, type GitopsSection } from '../../core/gitops-bundle.ts';

const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const strict = (required: string[], properties: Record<string, unknown>) =>
  ({ type: 'object', additionalProperties: false, required, properties });

const access = { enum: [...ACCESS_VALUES] };
const rule = strict(['topic', 'access'], { topic: str, access, description: str });

/** Each section's value; optional keys take the value an empty data dir would have. */
export const SECTION_SCHEMAS: Readonly<Record<GitopsSection, unknown>> = {
  settings: strict([], { allow_anonymous: bool, hash_iterations: { type: 'integer' } }),
  users: {
    type: 'array',
    items: strict(['username', 'password_hash'], {
      username: str, password_hash: str, description: str, disabled: bool, roles: { type: 'array', items: str },
    }),
  },
  roles: { type: 'array', items: strict(['name'], { name: str, description: str, rules: { type: 'array', items: rule } }) },
  acls: { type: 'array', items: strict(['principal', 'topic', 'access'], { principal: str, topic: str, access, description: str }) },
  schemas: {
    type: 'array',
    items: strict(['name', 'topic_filter', 'schema'], {
      name: str, topic_filter: str, enabled: bool, description: str,
      // A JSON Schema is an object or a boolean (JSON Schema 2020-12 §4.3.2).
      schema: { type: ['object', 'boolean'] },
    }),
  },
  // The items are checked by the core (core/gitops-broker.ts with validateBrokerConfig), as the broker API checks them.
  broker: strict([], {
    listeners: { type: 'array', items: { type: 'object' } },
    options: { type: 'object' },
    bridges: { type: 'array', items: { type: 'object' } },
    passthrough: { type: 'array', items: str },
  }),
};

const version = { const: GITOPS_FORMAT_VERSION };

/** `<section>.yaml`: `version: 1` and the section under its own key. */
const fileSchema = (section: GitopsSection) => strict(['version', section], { version, [section]: SECTION_SCHEMAS[section] });

/** A whole bundle as JSON (`POST /plan {bundle}`); a missing section is an empty one. */
const bundleSchema = strict(['version'], { version, ...SECTION_SCHEMAS });

/** Compiled on first use, not when the server loads this module (issue 14). */
let compiled: { files: Map<GitopsSection, ValidateFunction>; bundle: ValidateFunction } | null = null;
const validators = (): { files: Map<GitopsSection, ValidateFunction>; bundle: ValidateFunction } => {
  if (compiled) return compiled;
  const ajv = new (ajv2020Module().Ajv2020)({ allErrors: true, strict: true, allowUnionTypes: true });
  return (compiled = { files: new Map(GITOPS_SECTIONS.map((s) => [s, ajv.compile(fileSchema(s))])), bundle: ajv.compile(bundleSchema) });
};

export type ShapeProblem = { path: string; message: string };

const problemOf = (e: ErrorObject): ShapeProblem => {
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperty':
    case 'additionalProperties': {
      const key = String(params['additionalProperty']).slice(0, 100);
      return { path: `${e.instancePath}/${key}`, message: `unknown key ${JSON.stringify(key)}` };
    }
    case 'required':
      return { path: e.instancePath, message: `missing required key ${JSON.stringify(params['missingProperty'])}` };
    case 'enum':
      return { path: e.instancePath, message: `must be one of ${(params['allowedValues'] as unknown[]).map(String).join(', ')}` };
    case 'const':
      return { path: e.instancePath, message: `must be ${JSON.stringify(params['allowedValue'])}` };
    default:
      return { path: e.instancePath, message: e.message ?? 'is invalid' };
  }
};

const run = (fn: ValidateFunction, value: unknown): ShapeProblem[] => (fn(value) ? [] : (fn.errors ?? []).map(problemOf));

export const fileShapeProblems = (section: GitopsSection, value: unknown): ShapeProblem[] => {
  const fn = validators().files.get(section);
  if (!fn) throw new Error(`no file schema for ${section}`);
  return run(fn, value);
};

export const bundleShapeProblems = (value: unknown): ShapeProblem[] => run(validators().bundle, value);
