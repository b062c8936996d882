/**
 * Secrets stay 0600 (and their directory 0700) whatever the mode of the file being replaced
 * (issue "second hardening round", files): an operator's `chmod 644` on a key file, or a restore
 * that loosened it, must not survive the next write.
 */
import assert from 'node:assert/strict';
import { chmodSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';

test('given a world-readable secret file and a loose secrets dir, when the secret is written, then the file is 0600 and the dir 0700', (t) => {
  const dataDir = tempDir(t, 'mcm-secrets-');
  mkdirSync(join(dataDir, 'secrets'), { mode: 0o755 });
  chmodSync(join(dataDir, 'secrets'), 0o755);
  writeFileSync(join(dataDir, 'secrets', 'cli.token'), 'old', { mode: 0o644 });
  chmodSync(join(dataDir, 'secrets', 'cli.token'), 0o644);
  const secrets = createSecretStore(dataDir);
  secrets.write('cli.token', 'new-token');
  assert.equal(statSync(join(dataDir, 'secrets', 'cli.token')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dataDir, 'secrets')).mode & 0o777, 0o700);
  assert.equal(secrets.read('cli.token')?.toString(), 'new-token');
});
