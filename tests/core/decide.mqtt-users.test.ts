import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AT, HASH_A, HASH_B, ev, given } from '../helpers/decider-spec.ts';

describe('CreateMqttUser', () => {
  it('creates an enabled user with an empty description by default', () => {
    given([]).when({ type: 'CreateMqttUser', data: { username: 'alice', passwordHash: HASH_A } })
      .then([{ type: 'MqttUserCreated', data: { username: 'alice', passwordHash: HASH_A, description: '', disabled: false } }]);
  });

  it('grants the given roles after the creation, deduplicated and sorted', () => {
    given([ev.roleDefined('sensors'), ev.roleDefined('admins')])
      .when({ type: 'CreateMqttUser', data: { username: 'bob smith', passwordHash: HASH_B, description: 'hall 3', roles: ['sensors', 'admins', 'sensors'], disabled: true } })
      .then([
        { type: 'MqttUserCreated', data: { username: 'bob smith', passwordHash: HASH_B, description: 'hall 3', disabled: true } },
        { type: 'RoleGranted', data: { username: 'bob smith', role: 'admins' } },
        { type: 'RoleGranted', data: { username: 'bob smith', role: 'sensors' } },
      ]);
  });

  it('accepts UTF-8 usernames such as "ünï" [ref §1.1 item 6]', () => {
    given([]).when({ type: 'CreateMqttUser', data: { username: 'ünï', passwordHash: HASH_A } })
      .then([{ type: 'MqttUserCreated', data: { username: 'ünï', passwordHash: HASH_A, description: '', disabled: false } }]);
  });

  it('accepts a 256-byte username and refuses a 257-byte one (DESIGN §5)', () => {
    const ok = 'u'.repeat(254) + 'ü';
    assert.equal(given([]).when({ type: 'CreateMqttUser', data: { username: ok, passwordHash: HASH_A } }).then([
      { type: 'MqttUserCreated', data: { username: ok, passwordHash: HASH_A, description: '', disabled: false } },
    ]).length, 1);
    given([]).when({ type: 'CreateMqttUser', data: { username: ok + 'x', passwordHash: HASH_A } }).thenThrows('MCM_ERR_USERNAME_INVALID');
  });

  const badNames: [string, string][] = [
    ['empty', ''], ['with ":"', 'a:b'], ['with TAB', 'a\tb'], ['with LF', 'a\nb'], ['with CR', 'a\rb'], ['with DEL', 'a\u007f'],
    ['with a leading space', ' a'], ['with a trailing space', 'a '], ['starting with "#"', '#a'], ['with "+"', 'a+b'],
    ['with "#"', 'a#b'], ['with "/"', 'a/b'], ['with a BOM', '\ufeffa'], ['with a lone surrogate', 'a\ud800'], ['with U+0000', 'a\u0000'],
  ];
  for (const [what, username] of badNames) {
    it(`refuses a username ${what} with MCM_ERR_USERNAME_INVALID [ref §1.3]`, () => {
      const err = given([]).when({ type: 'CreateMqttUser', data: { username, passwordHash: HASH_A } }).thenThrows('MCM_ERR_USERNAME_INVALID');
      assert.equal(err.details[0]?.['field'], 'username');
    });
  }

  it('refuses an existing username with MCM_ERR_MQTT_USER_EXISTS', () => {
    const err = given([ev.userCreated('alice')]).when({ type: 'CreateMqttUser', data: { username: 'alice', passwordHash: HASH_B } })
      .thenThrows('MCM_ERR_MQTT_USER_EXISTS');
    assert.equal(err.message, 'MQTT user "alice" already exists');
  });

  it('treats "__proto__" and "constructor" as ordinary usernames', () => {
    given([]).when({ type: 'CreateMqttUser', data: { username: 'constructor', passwordHash: HASH_A } })
      .then([{ type: 'MqttUserCreated', data: { username: 'constructor', passwordHash: HASH_A, description: '', disabled: false } }]);
    given([ev.userCreated('__proto__')]).when({ type: 'CreateMqttUser', data: { username: '__proto__', passwordHash: HASH_A } })
      .thenThrows('MCM_ERR_MQTT_USER_EXISTS');
  });

  const badHashes: [string, unknown][] = [
    ['a plaintext password', 's3cret'],
    ['zero iterations (the broker drops it) [ref §1.1]', HASH_A.replace('$101$', '$0$')],
    ['a salt of the wrong length', HASH_A.replace('XKm0/ruYS/eOrtlr', 'XKm0/ruYS/eOrtl')],
    ['an unpadded hash [ref §1.2]', HASH_A.slice(0, -2)],
    ['URL-safe base64 [ref §1.2]', HASH_A.replace(/\//g, '_')],
    ['a trailing newline', `${HASH_A}\n`],
    ['an iteration count past atoi\'s range', HASH_A.replace('$101$', '$9999999999$')],
    ['a non-string', 42],
  ];
  for (const [what, passwordHash] of badHashes) {
    it(`refuses ${what} as the hash with MCM_ERR_PASSWORD_HASH_INVALID`, () => {
      const err = given([]).when({ type: 'CreateMqttUser', data: { username: 'alice', passwordHash: passwordHash as string } })
        .thenThrows('MCM_ERR_PASSWORD_HASH_INVALID');
      assert.doesNotMatch(JSON.stringify(err.details), /s3cret/);
    });
  }

  it('accepts every form the broker reads, byte for byte: legacy $6$, a 64-byte-salt $7$ (2.1), argon2id, and "" (no password line) [issue 11]', () => {
    const kept = [
      '$6$72TuKcUQFd4a4Pkj$T2Pypd4l2KGGn+ho6e5Ny1R/k0mVciTPkz+zZC1V3X1YmVEUOrUUxuiVMIyc69QRG/Fckn2trsSSWPdNaVWBpg==',
      '$7$1000$h0tqVxBwkB9rKAXukTtffzdbBQtNy1q5FBTDwSW4hucfjpqunBbxW10NVnRk7Cfh0lQndnOv2+k4wJavgz1JNw==$02ujkUXlKkJGFzlQHNjUgXwG3XRB1mr3vs8NX5teGCJGbN4hdgSpHNHuj47j8r5SHXsO7GeHpmkpPNhLraVVcQ==',
      '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$NOi0h9ZWrjoAx4LhMrPBIuHHIOUv65/kWklX44UVOM4',
      '',
    ];
    for (const passwordHash of kept) {
      given([]).when({ type: 'CreateMqttUser', data: { username: 'dev', passwordHash } })
        .then([{ type: 'MqttUserCreated', data: { username: 'dev', passwordHash, description: '', disabled: false } }]);
    }
  });

  it('accepts other iteration counts, e.g. $7$1000$ [ref §1.5]', () => {
    const hash = '$7$1000$2tfdwjfTYnzI8k1l$a+7+pvtxWL+ClGILkDaPJUxYqm0yMZoXVQ5YOWpAr9cPP1Jr256PHdtV3TXpQp2v86A/s6Mi91efubhkQdrTxg==';
    given([]).when({ type: 'CreateMqttUser', data: { username: 'iter1000', passwordHash: hash } })
      .then([{ type: 'MqttUserCreated', data: { username: 'iter1000', passwordHash: hash, description: '', disabled: false } }]);
  });

  it('refuses a role that does not exist with MCM_ERR_ROLE_NOT_FOUND, listing it', () => {
    const err = given([ev.roleDefined('a')]).when({ type: 'CreateMqttUser', data: { username: 'u', passwordHash: HASH_A, roles: ['a', 'ghost'] } })
      .thenThrows('MCM_ERR_ROLE_NOT_FOUND');
    assert.deepEqual(err.details, [{ field: 'roles', role: 'ghost' }]);
  });

  it('refuses roles that are not a list of strings with MCM_ERR_VALIDATION', () => {
    given([]).when({ type: 'CreateMqttUser', data: { username: 'u', passwordHash: HASH_A, roles: 'a' as unknown as string[] } }).thenThrows('MCM_ERR_VALIDATION');
  });

  it('refuses a bad description with MCM_ERR_DESCRIPTION_INVALID and a non-boolean disabled with MCM_ERR_VALIDATION', () => {
    given([]).when({ type: 'CreateMqttUser', data: { username: 'u', passwordHash: HASH_A, description: 'a\nb' } }).thenThrows('MCM_ERR_DESCRIPTION_INVALID');
    given([]).when({ type: 'CreateMqttUser', data: { username: 'u', passwordHash: HASH_A, disabled: 'yes' as unknown as boolean } }).thenThrows('MCM_ERR_VALIDATION');
  });
});

describe('ChangeMqttUserPassword', () => {
  it('records the new hash', () => {
    given([ev.userCreated('alice')]).when({ type: 'ChangeMqttUserPassword', data: { username: 'alice', passwordHash: HASH_B } })
      .then([{ type: 'MqttUserPasswordChanged', data: { username: 'alice', passwordHash: HASH_B } }]);
  });
  it('refuses an unknown user with MCM_ERR_MQTT_USER_NOT_FOUND', () => {
    given([]).when({ type: 'ChangeMqttUserPassword', data: { username: 'ghost', passwordHash: HASH_B } }).thenThrows('MCM_ERR_MQTT_USER_NOT_FOUND');
  });
  it('refuses a malformed hash with MCM_ERR_PASSWORD_HASH_INVALID', () => {
    given([ev.userCreated('alice')]).when({ type: 'ChangeMqttUserPassword', data: { username: 'alice', passwordHash: 'plain' } })
      .thenThrows('MCM_ERR_PASSWORD_HASH_INVALID');
  });
  it('does not treat "constructor" as an existing user', () => {
    given([]).when({ type: 'ChangeMqttUserPassword', data: { username: 'constructor', passwordHash: HASH_B } }).thenThrows('MCM_ERR_MQTT_USER_NOT_FOUND');
  });
});

describe('UpdateMqttUser', () => {
  const world = [ev.roleDefined('a'), ev.roleDefined('b'), ev.roleDefined('c'), ev.userCreated('alice', { description: 'old' }), ev.granted('alice', 'a'), ev.granted('alice', 'b')];

  it('emits only the changed fields: description, revokes, grants, then the disabled flag', () => {
    given(world).when({ type: 'UpdateMqttUser', data: { username: 'alice', description: 'new', roles: ['c', 'b'], disabled: true } }).then([
      { type: 'MqttUserDescribed', data: { username: 'alice', description: 'new' } },
      { type: 'RoleRevoked', data: { username: 'alice', role: 'a' } },
      { type: 'RoleGranted', data: { username: 'alice', role: 'c' } },
      { type: 'MqttUserDisabled', data: { username: 'alice' } },
    ]);
  });

  it('re-enables a disabled user', () => {
    given([ev.userCreated('alice', { disabled: true })]).when({ type: 'UpdateMqttUser', data: { username: 'alice', disabled: false } })
      .then([{ type: 'MqttUserEnabled', data: { username: 'alice' } }]);
  });

  it('is a no-op ([]) when nothing changes', () => {
    given(world).when({ type: 'UpdateMqttUser', data: { username: 'alice', description: 'old', roles: ['b', 'a', 'a'], disabled: false } }).then([]);
    given(world).when({ type: 'UpdateMqttUser', data: { username: 'alice' } }).then([]);
  });

  it('revokes every role for roles: []', () => {
    given(world).when({ type: 'UpdateMqttUser', data: { username: 'alice', roles: [] } }).then([
      { type: 'RoleRevoked', data: { username: 'alice', role: 'a' } },
      { type: 'RoleRevoked', data: { username: 'alice', role: 'b' } },
    ]);
  });

  it('refuses an unknown user, an unknown role, and a bad description', () => {
    given(world).when({ type: 'UpdateMqttUser', data: { username: 'bob', description: 'x' } }).thenThrows('MCM_ERR_MQTT_USER_NOT_FOUND');
    given(world).when({ type: 'UpdateMqttUser', data: { username: 'alice', roles: ['zzz'] } }).thenThrows('MCM_ERR_ROLE_NOT_FOUND');
    given(world).when({ type: 'UpdateMqttUser', data: { username: 'alice', description: 'x'.repeat(1025) } }).thenThrows('MCM_ERR_DESCRIPTION_INVALID');
  });
});

describe('DeleteMqttUser', () => {
  it('removes the user\'s direct rules in the same append, then the user (DESIGN §5)', () => {
    given([
      ev.userCreated('alice'), ev.userCreated('bob'), ev.roleDefined('r'), ev.granted('alice', 'r'),
      ev.ruleAdded(1, 'user:alice', 'a/#', 'read'), ev.ruleAdded(2, 'user:bob', 'b/#', 'read'),
      ev.ruleAdded(3, 'role:r', 'r/#', 'read'), ev.ruleAdded(4, 'user:alice', 'x', 'deny'),
    ]).when({ type: 'DeleteMqttUser', data: { username: 'alice' } }).then([
      { type: 'AclRuleRemoved', data: { id: 1 } },
      { type: 'AclRuleRemoved', data: { id: 4 } },
      { type: 'MqttUserDeleted', data: { username: 'alice' } },
    ]);
  });
  it('refuses an unknown user with MCM_ERR_MQTT_USER_NOT_FOUND', () => {
    const err = given([]).when({ type: 'DeleteMqttUser', data: { username: 'ghost' } }).thenThrows('MCM_ERR_MQTT_USER_NOT_FOUND');
    assert.equal(err.message, 'MQTT user "ghost" does not exist');
  });
});

describe('GrantRole and RevokeRole', () => {
  const world = [ev.userCreated('alice'), ev.roleDefined('r'), ev.roleDefined('s'), ev.granted('alice', 'r')];
  it('grants a role the user does not have', () => {
    given(world).when({ type: 'GrantRole', data: { username: 'alice', role: 's' } }).then([{ type: 'RoleGranted', data: { username: 'alice', role: 's' } }]);
  });
  it('refuses a role already granted with MCM_ERR_ROLE_ALREADY_GRANTED', () => {
    given(world).when({ type: 'GrantRole', data: { username: 'alice', role: 'r' } }).thenThrows('MCM_ERR_ROLE_ALREADY_GRANTED');
  });
  it('revokes a granted role', () => {
    given(world).when({ type: 'RevokeRole', data: { username: 'alice', role: 'r' } }).then([{ type: 'RoleRevoked', data: { username: 'alice', role: 'r' } }]);
  });
  it('refuses to revoke a role that is not granted with MCM_ERR_ROLE_NOT_GRANTED', () => {
    given(world).when({ type: 'RevokeRole', data: { username: 'alice', role: 's' } }).thenThrows('MCM_ERR_ROLE_NOT_GRANTED');
  });
  it('needs both the user and the role to exist', () => {
    for (const type of ['GrantRole', 'RevokeRole'] as const) {
      given(world).when({ type, data: { username: 'bob', role: 'r' } }).thenThrows('MCM_ERR_MQTT_USER_NOT_FOUND');
      given(world).when({ type, data: { username: 'alice', role: 'nope' } }).thenThrows('MCM_ERR_ROLE_NOT_FOUND');
      given(world).when({ type, data: { username: 'alice', role: 'toString' } }).thenThrows('MCM_ERR_ROLE_NOT_FOUND');
    }
  });
  it('folds with the fixed timestamp', () => {
    assert.equal(given(world).state.users['alice']?.updatedAt, AT);
  });
});
