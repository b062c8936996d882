/**
 * readTextOrNull (the apply's read of the broker files, issue 14: a reused buffer and a
 * TextDecoder) reads exactly what readFileSync(path, 'utf8') does, a leading byte order mark
 * included (the checkers must see it, reference §1.1 item 9, §2.1).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { readTextOrNull } from '../../adapters/files/write-rendered-file.ts';
import { tempDir } from '../helpers/temp-dir.ts';

describe('readTextOrNull', () => {
  it('decodes any bytes as readFileSync(path, "utf8") does, at any size (the buffer grows)', (t) => {
    const file = join(tempDir(t), 'f');
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 200 }).map((s) => new Uint8Array(Buffer.from(`\uFEFF${s}`))),
      fc.integer({ min: 60_000, max: 300_000 }).map((n) => new Uint8Array(Buffer.from('héllo\n'.repeat(Math.ceil(n / 7))))),
    );
    fc.assert(fc.property(bytes, (b) => {
      writeFileSync(file, b);
      assert.equal(readTextOrNull(file), readFileSync(file, 'utf8'));
    }), { numRuns: 300 });
  });

  it('is null for a missing file or a directory', (t) => {
    const dir = tempDir(t);
    assert.equal(readTextOrNull(join(dir, 'missing')), null);
    assert.equal(readTextOrNull(dir), null);
  });
});
