// npm run lint (issue "second hardening round", guard rails). Two things are enforced:
//  1. No floating promises: a promise nobody awaits, returns or marks with `void` loses its
//     error (an unhandled rejection) and its ordering — the apply loop, the hub and the CLI rely
//     on both. Type-aware (typescript-eslint's project service).
//  2. Import boundaries (DESIGN §2): core/ and projections/ import no adapters, no npm runtime
//     package and no node: module (they are pure: time, randomness, hashes and I/O come in as
//     data); ui/ imports no server code (adapters/) and no node: module.
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['node:*', 'fs', 'fs/*', 'path', 'os', 'net', 'http', 'https', 'crypto', 'child_process', 'worker_threads', 'dgram', 'dns', 'tls', 'url', 'stream', 'events', 'util', 'zlib', 'process', 'timers', 'readline', 'sqlite'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'ui/dist/**', 'dist/**', 'data/**', 'bench/results/**', 'coverage/**', '**/*.js'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': ['error', {
        ignoreVoid: true,
        ignoreIIFE: false,
        // node:test's describe/it/test return promises the runner itself awaits.
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }],
      }],
    },
  },
  {
    files: ['core/**/*.ts', 'projections/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/adapters/**', '**/adapters'], message: 'core/ and projections/ are pure: no adapters (DESIGN §2).' },
          { group: ['**/ui/**'], message: 'core/ and projections/ never import the UI.' },
          { group: NODE_BUILTINS, message: 'core/ and projections/ are pure: no node: I/O (time, randomness, hashes come in as data; DESIGN §2).' },
          { regex: '^[^.]', message: 'core/ and projections/ import no npm runtime packages (DESIGN §2): relative imports only.' },
        ],
      }],
    },
  },
  {
    files: ['ui/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/adapters/**', '**/adapters'], message: 'ui/ imports no server code (DESIGN §2); talk to the API.' },
          { group: ['**/tests/**', '**/bench/**', '**/scripts/**'], message: 'ui/ imports no server-side code.' },
          { group: NODE_BUILTINS, message: 'ui/ runs in the browser: no node: modules.' },
        ],
      }],
    },
  },
);
