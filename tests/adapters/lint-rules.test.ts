/**
 * The guard rails `npm run lint` enforces (issue "second hardening round"): the import
 * boundaries of DESIGN §2 and no floating promises. Each rule is shown to fire on code that
 * breaks it, so a config change that silently disables one fails here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

/** Lints `text` as if it were the file at `path` (an existing file, so the type-aware rules find its project). */
const messages = async (path: string, text: string): Promise<string[]> => {
  const [result] = await eslint.lintText(text, { filePath: `${root}${path}` });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? 'fatal'}: ${m.message}`);
};

describe('npm run lint', () => {
  it('core/ may not import adapters, node: modules or npm packages', async () => {
    for (const bad of ["import { readFileSync } from 'node:fs';", "import { createHash } from 'crypto';", "import { openDatabase } from '../adapters/sqlite/open-database.ts';", "import YAML from 'yaml';"]) {
      const found = await messages('core/state.ts', `${bad}\nexport const x = 1;\n`);
      assert.ok(found.some((m) => m.startsWith('no-restricted-imports')), `${bad}: ${found.join('; ')}`);
    }
    assert.deepEqual(await messages('core/state.ts', "import type { Access } from './acl-types.ts';\nexport const x: Access | 1 = 1;\n"), []);
  });

  it('projections/ may not import adapters or node: modules; ui/ may not import server code', async () => {
    assert.ok((await messages('projections/acl-file.ts', "import { statSync } from 'node:fs';\nexport const y = statSync;\n")).some((m) => m.startsWith('no-restricted-imports')));
    assert.ok((await messages('ui/main.ts', "import { startServer } from '../adapters/main.ts';\nexport const z = startServer;\n")).some((m) => m.startsWith('no-restricted-imports')));
  });

  it('a floating promise is an error; awaited, returned or void-marked ones are not', async () => {
    const floating = await messages('adapters/cli/server-settings.ts', 'const later = async (): Promise<void> => {};\nexport const go = (): void => { later(); };\n');
    assert.ok(floating.some((m) => m.startsWith('@typescript-eslint/no-floating-promises')), floating.join('; '));
    const handled = await messages('adapters/cli/server-settings.ts', 'const later = async (): Promise<void> => {};\nexport const go = async (): Promise<void> => { await later(); void later(); };\n');
    assert.deepEqual(handled, []);
  });
});
