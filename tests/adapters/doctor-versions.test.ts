/**
 * `mcm doctor` warns about lines the broker's version reads differently (issue "Adopt an
 * existing Mosquitto", reference §8): a 2.0 broker drops 64-byte-salt `$7$` and argon2id lines
 * (those users cannot log in), 2.1 substitutes pattern %u/%c only as whole levels.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../adapters/config/defaults.ts';
import { checkBrokerVersions } from '../../adapters/doctor/check-broker-versions.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const SALT64 = 'User:$7$1000$h0tqVxBwkB9rKAXukTtffzdbBQtNy1q5FBTDwSW4hucfjpqunBbxW10NVnRk7Cfh0lQndnOv2+k4wJavgz1JNw==$02ujkUXlKkJGFzlQHNjUgXwG3XRB1mr3vs8NX5teGCJGbN4hdgSpHNHuj47j8r5SHXsO7GeHpmkpPNhLraVVcQ==';
const ALICE = 'alice:$7$101$XKm0/ruYS/eOrtlr$inRGfPMzec7uMWnXImeyhIxXW7aCqWkK6swGkFbduAfuxktrNQnfl4PozSrkZVETuXyLXXN79ndKVLAobuKFgw==';

const world = (t: Parameters<typeof tempDir>[0], passwd: string, acl: string) => {
  const dir = tempDir(t, 'mcm-doctor-versions-');
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc', 'passwd'), passwd);
  writeFileSync(join(dir, 'etc', 'acl'), acl);
  const config = defaultConfig({ mosquittoBinary: null });
  return { ...config, data_dir: dir, mosquitto: { ...config.mosquitto, mode: 'external' as const, password_file: join(dir, 'etc', 'passwd'), acl_file: join(dir, 'etc', 'acl') } };
};

describe('doctor: versions', () => {
  it('given a 64-byte-salt $7$ line, a 2.0 broker is warned about with the line number', (t) => {
    const r = checkBrokerVersions(world(t, `${ALICE}\n${SALT64}\n`, 'user alice\ntopic read a/#\n'), { version: '2.0.11' });
    assert.equal(r.status, 'warn');
    assert.match(r.detail, /Mosquitto 2\.0/);
    assert.match(r.detail, /password_file:2 /);
  });

  it('given the same file and a 2.1 broker, nothing to warn about', (t) => {
    assert.equal(checkBrokerVersions(world(t, `${ALICE}\n${SALT64}\n`, 'user alice\ntopic read a/#\n'), { version: '2.1.2' }).status, 'pass');
  });

  it('given a pattern with %c inside a level, 2.1 is warned about', (t) => {
    const r = checkBrokerVersions(world(t, `${ALICE}\n`, 'pattern read dev/x%c/#\n'), { version: '2.1.2' });
    assert.equal(r.status, 'warn');
    assert.match(r.detail, /acl_file:1 /);
  });
});
