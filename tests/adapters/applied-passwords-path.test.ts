/** The dynsec worker's password records live in secrets/ (so backups carry them); an older data dir's file moves there. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { appliedPasswordsPath } from '../../adapters/dynsec/applied-passwords-path.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';

it('is in secrets/ (0700), and moves the file an older server kept in the data dir', (t) => {
  const dataDir = tempDir(t);
  const secrets = createSecretStore(dataDir);
  writeFileSync(join(dataDir, 'dynsec-passwords.json'), '{"alice":"ab"}\n', { mode: 0o600 });
  const path = appliedPasswordsPath(dataDir, secrets);
  assert.equal(path, join(dataDir, 'secrets', 'dynsec-passwords.json'));
  assert.equal(statSync(join(dataDir, 'secrets')).mode & 0o777, 0o700);
  assert.equal(readFileSync(path, 'utf8'), '{"alice":"ab"}\n');
  assert.equal(existsSync(join(dataDir, 'dynsec-passwords.json')), false);
  // Called again (every start): nothing to move, the same place.
  assert.equal(appliedPasswordsPath(dataDir, secrets), path);
});
