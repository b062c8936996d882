/** The YAML parser, loaded when the first YAML text is read (issue 14: 80 module files; lazy-module.ts). */
import type * as YamlModule from 'yaml';
import { lazyModule } from './lazy-module.ts';

export const yamlModule = lazyModule<typeof YamlModule>('yaml');
