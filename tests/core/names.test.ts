import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DomainError } from '../../core/errors.ts';
import {
  adminUsernameProblem, assertAdminUsername, assertDescription, assertRoleName, assertUsername,
  roleNameProblem, usernameProblem, usernameViolation, utf8Length,
} from '../../core/names.ts';

const throwsCode = (fn: () => unknown, code: string, detail?: Record<string, unknown>): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DomainError);
    assert.equal(e.code, code);
    if (detail) assert.deepEqual(e.details[0], { ...e.details[0], ...detail });
    return true;
  });
};

describe('MQTT usernames (DESIGN §5, reference §1.3)', () => {
  const invalid: [string, string, string][] = [
    ['empty', '', 'empty'],
    ['contains ":" (ends the username in the password file) [ref §1.1]', 'a:b', 'colon'],
    ['contains TAB (iscntrl) [ref §1.3]', 'a\tb', 'control-character'],
    ['contains LF', 'a\nb', 'control-character'],
    ['contains CR', 'a\rb', 'control-character'],
    ['contains DEL U+007F', 'a\u007fb', 'control-character'],
    ['contains a C1 control U+0085', 'a\u0085b', 'control-character'],
    ['contains C1 U+009F', 'a\u009fb', 'control-character'],
    ['contains U+0000', 'a\u0000b', 'nul'],
    ['has a leading space (the broker trims it) [ref §1.1]', ' bob', 'whitespace-edge'],
    ['has a trailing space', 'bob ', 'whitespace-edge'],
    ['has a trailing non-breaking space (any Unicode whitespace)', 'bob\u00a0', 'whitespace-edge'],
    ['has a leading ideographic space U+3000', '\u3000bob', 'whitespace-edge'],
    ['starts with "#" (a password-file comment) [ref §1.1]', '#bob', 'leading-hash'],
    ['contains "+" (denied everything once a pattern exists) [ref §2.3]', 'a+b', 'wildcard'],
    ['contains "#" anywhere', 'a#b', 'wildcard'],
    ['contains "/" (crosses levels under %u)', 'a/b', 'slash'],
    ['contains a BOM at the start [ref §1.1 item 9]', '\ufeffbob', 'bom'],
    ['contains a BOM inside', 'b\ufeffob', 'bom'],
    ['is 257 bytes of UTF-8', 'a'.repeat(257), 'max-bytes'],
    ['is 257 bytes with multi-byte characters', 'ü'.repeat(128) + 'a', 'max-bytes'],
    ['has a lone high surrogate (not valid UTF-8)', 'a\ud800b', 'utf8'],
    ['has a lone low surrogate', '\udc00', 'utf8'],
    ['contains the noncharacter U+FFFE (mosquitto_validate_utf8 refuses it)', 'a\ufffeb', 'noncharacter'],
    ['contains the noncharacter U+FDD0', 'a\ufdd0', 'noncharacter'],
    ['contains the noncharacter U+1FFFF', 'a\u{1ffff}', 'noncharacter'],
  ];
  for (const [what, name, rule] of invalid) {
    it(`refuses a username that ${what}`, () => {
      const v = usernameViolation(name);
      assert.equal(v?.rule, rule);
      assert.equal(usernameProblem(name), v?.message);
      throwsCode(() => assertUsername(name), 'MCM_ERR_USERNAME_INVALID', { field: 'username', value: name, rule });
    });
  }

  it('refuses non-strings', () => {
    for (const v of [undefined, null, 42, {}, ['a']]) {
      assert.notEqual(usernameProblem(v), null);
      throwsCode(() => assertUsername(v), 'MCM_ERR_USERNAME_INVALID', { rule: 'type' });
    }
  });

  it('names the broken rule in the message', () => {
    assert.match(usernameProblem('a:b') ?? '', /":"/);
    assert.match(usernameProblem('a\tb') ?? '', /control characters \(U\+0009 at index 1\)/);
    assert.match(usernameProblem('a'.repeat(257)) ?? '', /at most 256 bytes.*257/);
    assert.match(usernameProblem('#x') ?? '', /start with "#"/);
  });

  it('uses the given field name in the error details', () => {
    throwsCode(() => assertUsername('a/b', 'principal'), 'MCM_ERR_USERNAME_INVALID', { field: 'principal' });
  });

  it('shortens a huge offending value in the error details', () => {
    const err = (() => { try { assertUsername('x'.repeat(100_000)); } catch (e) { return e as DomainError; } })();
    assert.ok(err && String(err.details[0]?.['value']).length < 400);
  });

  const valid: [string, string][] = [
    ['inner spaces ("bob smith" works in both files) [ref §1.3]', 'bob smith'],
    ['UTF-8 letters ("ünï" works) [ref §1.1 item 6]', 'ünï'],
    ['exactly 256 bytes', 'a'.repeat(256)],
    ['exactly 256 bytes of two-byte characters', 'ü'.repeat(128)],
    ['emoji (a surrogate pair is valid UTF-8)', 'dev-😀'],
    ['"%" and "$" (no meaning in the password file)', 'a%u$b'],
    ['a single character', 'x'],
    ['"__proto__" (names are data, not object keys)', '__proto__'],
  ];
  for (const [what, name] of valid) {
    it(`accepts ${what}`, () => {
      assert.equal(usernameProblem(name), null);
      assert.equal(assertUsername(name), name);
    });
  }

  it('counts UTF-8 bytes, not UTF-16 units', () => {
    assert.equal(utf8Length('a'), 1);
    assert.equal(utf8Length('ü'), 2);
    assert.equal(utf8Length('€'), 3);
    assert.equal(utf8Length('😀'), 4);
  });
});

describe('role names', () => {
  it('accepts 1–128 of [A-Za-z0-9._-]', () => {
    for (const n of ['a', 'sensors-ro', 'Plant_1.v2', 'x'.repeat(128)]) assert.equal(assertRoleName(n), n);
  });
  const bad: [string, unknown, string][] = [
    ['empty', '', 'empty'],
    ['129 characters', 'x'.repeat(129), 'max-length'],
    ['a space', 'a b', 'charset'],
    ['a colon (would break role:<name>)', 'a:b', 'charset'],
    ['a slash (would break the URL)', 'a/b', 'charset'],
    ['non-ASCII', 'rôle', 'charset'],
    ['"."', '.', 'dots'],
    ['".."', '..', 'dots'],
    ['a non-string', 7, 'type'],
  ];
  for (const [what, name, rule] of bad) {
    it(`refuses ${what} with MCM_ERR_ROLE_NAME_INVALID`, () => {
      assert.notEqual(roleNameProblem(name), null);
      throwsCode(() => assertRoleName(name), 'MCM_ERR_ROLE_NAME_INVALID', { field: 'name', rule });
    });
  }
});

describe('admin usernames', () => {
  it('accepts 1–64 of [A-Za-z0-9._@-]', () => {
    for (const n of ['root', 'ops@example.com', 'a.b-c_d', 'x'.repeat(64)]) assert.equal(assertAdminUsername(n), n);
  });
  it('refuses empty, too long, spaces, colons, non-ASCII, "." and ".." with MCM_ERR_USERNAME_INVALID', () => {
    for (const n of ['', 'x'.repeat(65), 'a b', 'a:b', 'ådmin', '.', '..', null]) {
      assert.notEqual(adminUsernameProblem(n), null, String(n));
      throwsCode(() => assertAdminUsername(n), 'MCM_ERR_USERNAME_INVALID');
    }
  });
});

describe('descriptions', () => {
  it('accepts any text up to 1024 characters, including the empty string', () => {
    for (const d of ['', 'Line sensor in hall 3 — ünï 😀', 'x'.repeat(1024), '😀'.repeat(1024)]) assert.equal(assertDescription(d), d);
  });
  it('refuses more than 1024 characters, control characters, lone surrogates and non-strings', () => {
    for (const d of ['x'.repeat(1025), 'a\nb', 'a\tb', 'a\u0000', 'a\u0085', 'a\ud800', 5, null]) {
      throwsCode(() => assertDescription(d), 'MCM_ERR_DESCRIPTION_INVALID', { field: 'description' });
    }
  });
});
