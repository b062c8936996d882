/**
 * Ajv, its 2019-09 and 2020-12 dialects and ajv-formats, loaded when the first schema is compiled
 * (issue 14: about 100 module files the server's start does not need; lazy-module.ts).
 */
import type * as AjvModule from 'ajv';
import type * as Ajv2019Module from 'ajv/dist/2019.js';
import type * as Ajv2020Module from 'ajv/dist/2020.js';
import type * as FormatsModule from 'ajv-formats';
import { lazyModule } from './lazy-module.ts';

export const ajvModule = lazyModule<typeof AjvModule>('ajv');
export const ajv2019Module = lazyModule<typeof Ajv2019Module>('ajv/dist/2019.js');
export const ajv2020Module = lazyModule<typeof Ajv2020Module>('ajv/dist/2020.js');
const formatsModule = lazyModule<typeof FormatsModule>('ajv-formats');

/** ajv-formats' plugin (its CommonJS export carries the function as `default`). */
export const addFormats = (ajv: AjvModule.Ajv): void => { formatsModule().default.default(ajv); };

/** An Ajv for the dialect a schema names in `$schema` (2020-12, 2019-09, else draft-07), with the formats. */
export const ajvForDialect = (schema: unknown, opts: AjvModule.Options): AjvModule.Ajv => {
  const dialect = schema !== null && typeof schema === 'object' ? (schema as { $schema?: unknown }).$schema : undefined;
  const ajv = typeof dialect === 'string' && dialect.includes('2020-12') ? new (ajv2020Module().Ajv2020)(opts)
    : typeof dialect === 'string' && dialect.includes('2019-09') ? new (ajv2019Module().Ajv2019)(opts)
      : new (ajvModule().Ajv)(opts);
  addFormats(ajv);
  return ajv;
};
