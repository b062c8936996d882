/** parseMosquittoConf: where an existing broker's files are, in 2.0's form and 2.1's plugin form (reference §8). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMosquittoConf } from '../../core/import/parse-mosquitto-conf.ts';

describe('parseMosquittoConf', () => {
  it("reads 2.0's password_file, acl_file and allow_anonymous; paths may hold spaces", () => {
    const c = parseMosquittoConf('# broker\nlistener 1883\nallow_anonymous false\npassword_file /etc/mosquitto/my passwd\n  acl_file   /etc/mosquitto/acl  \r\ninclude_dir /etc/mosquitto/conf.d\n');
    assert.deepEqual(c, {
      passwordFile: '/etc/mosquitto/my passwd', aclFile: '/etc/mosquitto/acl', allowAnonymous: false,
      includeDirs: ['/etc/mosquitto/conf.d'], pluginForm: false, problems: [], warnings: [],
    });
  });

  it("reads 2.1's plugin form: plugin_opt_* belong to the plugin line above them [ref §8]", () => {
    const c = parseMosquittoConf([
      'plugin /usr/lib/mosquitto_password_file.so', 'plugin_opt_password_file /etc/mosquitto/passwd',
      'plugin /usr/lib/mosquitto_acl_file.so', 'plugin_opt_acl_file /etc/mosquitto/acl', 'allow_anonymous true',
    ].join('\n'));
    assert.equal(c.passwordFile, '/etc/mosquitto/passwd');
    assert.equal(c.aclFile, '/etc/mosquitto/acl');
    assert.equal(c.pluginForm, true);
    assert.equal(c.allowAnonymous, true);
    assert.deepEqual(c.problems, []);
  });

  it('says nothing about allow_anonymous when the file does not, and the last one wins without per_listener_settings', () => {
    assert.equal(parseMosquittoConf('listener 1883\n').allowAnonymous, null);
    assert.equal(parseMosquittoConf('allow_anonymous true\nallow_anonymous false\n').allowAnonymous, false);
    const per = parseMosquittoConf('per_listener_settings true\nlistener 1\nallow_anonymous true\nlistener 2\nallow_anonymous false\n');
    assert.equal(per.allowAnonymous, null);
    assert.equal(per.warnings[0]?.code, 'allow_anonymous_per_listener');
  });

  it('refuses, with line numbers, what MCM cannot follow', () => {
    const c = parseMosquittoConf([
      'password_file /a', 'password_file /b', 'plugin /usr/lib/other.so', 'plugin_opt_acl_file /acl', 'allow_anonymous yes', 'acl_file',
    ].join('\n'));
    assert.deepEqual(c.problems.map((p) => [p.line, p.file]), [[2, 'mosquitto_conf'], [4, 'mosquitto_conf'], [5, 'mosquitto_conf'], [6, 'mosquitto_conf']]);
    assert.match(c.problems[0]?.message ?? '', /second password file "\/b" \(line 1 names "\/a"\)/);
    assert.match(c.problems[1]?.message ?? '', /must follow "plugin …\/mosquitto_acl_file.so"/);
  });
});
