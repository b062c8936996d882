/**
 * parseBrokerConf: a mosquitto.conf read as the broker reads it (src/conf.c, reference §7) into
 * listeners, options, bridges and passthrough (issue "Broker configuration as events").
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBrokerConf, type ParsedBrokerConf } from '../../core/import/parse-broker-conf.ts';

const conf = (...lines: string[]): string => `${lines.join('\n')}\n`;
const parse = (...lines: string[]): ParsedBrokerConf => parseBrokerConf(conf(...lines));
const problems = (p: ParsedBrokerConf): [number, string][] => p.problems.map((x) => [x.line, x.message]);
const codes = (p: ParsedBrokerConf): string[] => p.warnings.map((w) => w.code);

describe('given listener lines', () => {
  it('names each listener by protocol and port and binds what the broker binds', () => {
    const p = parse(
      'listener 1883',
      'listener 1884 127.0.0.1',
      'listener 9001 lo',
      'protocol websockets',
      'listener 1885',
      'bind_interface eth0',
      'max_connections 10',
      'listener 1886 ::1 # loopback only',
      'max_connections -1',
    );
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.config.listeners, [
      { name: 'mqtt-1883', port: 1883, protocol: 'mqtt', address: null, bindInterface: null, tls: null, maxConnections: null },
      { name: 'mqtt-1884', port: 1884, protocol: 'mqtt', address: '127.0.0.1', bindInterface: null, tls: null, maxConnections: null },
      { name: 'ws-9001', port: 9001, protocol: 'websockets', address: null, bindInterface: 'lo', tls: null, maxConnections: null },
      { name: 'mqtt-1885', port: 1885, protocol: 'mqtt', address: null, bindInterface: 'eth0', tls: null, maxConnections: 10 },
      { name: 'mqtt-1886', port: 1886, protocol: 'mqtt', address: '::1', bindInterface: null, tls: null, maxConnections: null },
    ]);
    assert.deepEqual(p.origins.listeners.map((o) => o.line), [1, 2, 3, 5, 8]);
  });

  it('imports a websockets listener on an IP address as the broker runs it: on every interface [ref §7, eclipse/mosquitto#3045]', () => {
    const p = parse('listener 9001 127.0.0.1', 'protocol websockets');
    assert.deepEqual(p.problems, []);
    assert.equal(p.config.listeners[0]?.address, null);
    assert.equal(p.config.listeners[0]?.bindInterface, null);
    assert.deepEqual(codes(p), ['websockets_address_ignored']);
  });

  it('applies listener lines to the last listener, whatever global or bridge lines come between', () => {
    const p = parse('listener 1883', 'connection edge', 'address h', 'topic a/#', 'persistence true', 'protocol websockets');
    assert.equal(p.config.listeners[0]?.protocol, 'websockets');
    assert.equal(p.config.bridges.length, 1);
  });

  it('refuses, with the line, a port the broker refuses, a unix socket, an unknown protocol, a host name and max_connections 0', () => {
    const p = parse('listener 0', 'listener 70000', 'listener 0 /run/mosquitto.sock', 'listener 1883', 'protocol mqttsn', 'listener 1884 localhost', 'listener 1885', 'max_connections 0');
    assert.deepEqual(p.problems.map((x) => x.line), [1, 2, 3, 5, 8, 6]);
    assert.match(p.problems[0]?.message ?? '', /invalid listener port "0"/);
    assert.match(p.problems[2]?.message ?? '', /unix socket listener/);
    assert.match(p.problems[3]?.message ?? '', /protocol "mqttsn" on listener 1883: MCM manages mqtt and websockets/);
    assert.match(p.problems[5]?.message ?? '', /listener 1884 binds the host name "localhost"/);
  });
});

describe('given TLS listener lines', () => {
  it('turns certfile, keyfile, cafile, tls_version, require_certificate and use_identity_as_username into tls with named certificates', () => {
    const p = parse(
      'listener 8883',
      'certfile /etc/mosquitto/certs/server.crt',
      'keyfile /etc/mosquitto/certs/server.key',
      'cafile /etc/mosquitto/ca.crt',
      'tls_version tlsv1.3',
      'require_certificate true',
      'use_identity_as_username 1',
      'listener 8884 lo',
      'protocol websockets',
      'certfile /etc/mosquitto/certs/server.crt',
      'keyfile /etc/mosquitto/certs/server.key',
    );
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.config.listeners.map((l) => [l.name, l.tls]), [
      ['tls-8883', { certificate: 'tls-8883-cert', ca: 'tls-8883-ca', minVersion: 'tlsv1.3', requireCertificate: true, useIdentityAsUsername: true }],
      ['wss-8884', { certificate: 'tls-8883-cert', ca: null, minVersion: 'tlsv1.2', requireCertificate: false, useIdentityAsUsername: false }],
    ]);
    assert.deepEqual(p.files.certificates, [
      { name: 'tls-8883-cert', certfile: '/etc/mosquitto/certs/server.crt', keyfile: '/etc/mosquitto/certs/server.key', ca: false, origin: { line: 2, source: null }, keyOrigin: { line: 3, source: null } },
      { name: 'tls-8883-ca', certfile: '/etc/mosquitto/ca.crt', keyfile: null, ca: true, origin: { line: 4, source: null }, keyOrigin: null },
    ], 'the same files are one certificate');
  });

  it('refuses half a key pair, a CA alone, a duplicate certfile and tlsv1.1, each on its line', () => {
    const p = parse('listener 8883', 'certfile /a.crt', 'listener 8884', 'cafile /ca.crt', 'listener 8885', 'certfile /a.crt', 'certfile /b.crt', 'keyfile /a.key', 'tls_version tlsv1.1');
    assert.deepEqual(problems(p).map(([l]) => l), [7, 2, 4, 9]);
    assert.match(p.problems[0]?.message ?? '', /a second certfile on listener 8885/);
    assert.match(p.problems[1]?.message ?? '', /listener 8883 has a certfile without a keyfile/);
    assert.match(p.problems[2]?.message ?? '', /listener 8884 has a cafile but no certfile/);
    assert.match(p.problems[3]?.message ?? '', /tls_version on listener 8885: MCM manages tlsv1.2 and tlsv1.3/);
  });
});

describe('given listener lines before any listener line (the default listener)', () => {
  it('makes the default listener from port and bind_address, as conf.c config__parse_args does', () => {
    const p = parse('port 1884', 'bind_address 127.0.0.1', 'max_connections 5', 'listener 9001 lo', 'protocol websockets');
    assert.deepEqual(p.config.listeners.map((l) => [l.name, l.port, l.address, l.maxConnections]), [['ws-9001', 9001, null, null], ['mqtt-1884', 1884, '127.0.0.1', 5]]);
    assert.ok(codes(p).includes('default_listener'));
  });

  it('puts the broker on port 1883, every interface, when only a listener setting is given', () => {
    const p = parse('protocol websockets');
    assert.deepEqual(p.config.listeners.map((l) => [l.name, l.address, l.bindInterface]), [['ws-1883', null, null]]);
  });
});

describe('given global options', () => {
  it('reads every catalog option as the broker does: true/1, false/0, C atoi, the last value wins', () => {
    const p = parse(
      'persistence 1', 'autosave_interval 900s', 'max_inflight_messages 40', 'max_queued_messages 5000', 'message_size_limit 1024',
      'max_packet_size 65536', 'max_keepalive 120', 'retain_available false', 'sys_interval 30', 'autosave_interval 600',
    );
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.config.options, {
      persistence: true, autosave_interval: 600, max_inflight_messages: 40, max_queued_messages: 5000, message_size_limit: 1024,
      max_packet_size: 65_536, max_keepalive: 120, retain_available: false, sys_interval: 30,
    });
    assert.equal(p.origins.options['autosave_interval']?.line, 10);
  });

  it('clamps where the broker clamps and refuses where it refuses', () => {
    const p = parse('autosave_interval -1', 'max_inflight_messages 65535', 'max_queued_messages -5', 'retained_persistence true', 'max_packet_size 10', 'retain_available maybe', 'max_keepalive', 'sys_interval 0');
    assert.deepEqual(p.config.options, { autosave_interval: 0, max_inflight_messages: 0, max_queued_messages: 0, persistence: true });
    assert.deepEqual(p.problems.map((x) => x.line), [5, 6, 7]);
    assert.deepEqual(codes(p), ['sys_interval_zero']);
  });

  it('says persistence false when the conf does not set it: the broker default, not MCM\'s', () => {
    assert.equal(parse('listener 1883').config.options['persistence'], false);
  });

  it('collects every log_type line; none clears, all takes what MCM allows; debug and subscribe are dropped with a warning', () => {
    assert.deepEqual(parse('log_type error', 'log_type warning', 'log_type notice', 'log_type information').config.options['log_type'], ['error', 'warning', 'notice', 'information']);
    const p = parse('log_type subscribe', 'log_type debug', 'log_type error', 'log_type websockets');
    assert.deepEqual(p.config.options['log_type'], ['error', 'websockets']);
    assert.deepEqual(codes(p), ['log_type_dropped', 'log_type_dropped', 'log_type_required']);
    assert.deepEqual(parse('log_type all').config.options['log_type'], ['error', 'warning', 'notice', 'information', 'websockets']);
    assert.deepEqual(parse('log_type all', 'log_type none', 'log_type error').config.options['log_type'], ['error']);
    assert.deepEqual(problems(parse('log_type loud')), [[1, 'invalid log_type "loud" (the broker refuses it)']]);
    assert.equal(parse('listener 1883').config.options['log_type'], undefined, 'no log_type: the broker default, which MCM renders too');
  });
});

describe('given a bridge', () => {
  const bridge = [
    'connection edge',
    'addresses remote.example.com:8883 10.0.0.2',
    'remote_username bridge-user',
    'remote_password s3cret-pw',
    'clientid edge-1',
    'bridge_cafile /etc/mosquitto/remote-ca.crt',
    'bridge_certfile /etc/mosquitto/edge.crt',
    'bridge_keyfile /etc/mosquitto/edge.key',
    'bridge_tls_version tlsv1.2',
    'topic sensors/# out 1 local/ remote/',
    'topic "" in 2 a/b c/d',
    'topic cmd/#',
    'topic x/# BOTH 0 "" r/',
    'cleansession true',
    'keepalive_interval 2',
  ];

  it('reads addresses, credentials, TLS and topic lines (mosquitto.conf(5): `""` is empty, direction defaults to out)', () => {
    const p = parse(...bridge);
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.config.bridges, [{
      name: 'edge',
      addresses: [{ host: 'remote.example.com', port: 8883 }, { host: '10.0.0.2', port: 1883 }],
      remoteUsername: 'bridge-user',
      remotePasswordRef: null,
      remoteClientId: 'edge-1',
      tls: { ca: 'edge-ca', certificate: 'edge-cert', version: 'tlsv1.2' },
      topics: [
        { pattern: 'sensors/#', direction: 'out', qos: 1, localPrefix: 'local/', remotePrefix: 'remote/' },
        { pattern: '', direction: 'in', qos: 2, localPrefix: 'a/b', remotePrefix: 'c/d' },
        { pattern: 'cmd/#', direction: 'out', qos: 0, localPrefix: '', remotePrefix: '' },
        { pattern: 'x/#', direction: 'both', qos: 0, localPrefix: '', remotePrefix: 'r/' },
      ],
      cleansession: true,
      keepalive: 5,
    }]);
    assert.deepEqual(p.bridgePasswords, [{ bridge: 'edge', password: 's3cret-pw', origin: { line: 4, source: null } }]);
    assert.deepEqual(p.files.certificates.map((c) => [c.name, c.certfile, c.keyfile, c.ca]), [
      ['edge-ca', '/etc/mosquitto/remote-ca.crt', null, true],
      ['edge-cert', '/etc/mosquitto/edge.crt', '/etc/mosquitto/edge.key', false],
    ]);
  });

  it('never puts the password in the configuration, a warning or a problem', () => {
    const p = parse('connection edge', 'address h', 'remote_password p w', 'topic a/#', 'remote_password again');
    const text = JSON.stringify({ config: p.config, problems: p.problems, warnings: p.warnings });
    assert.doesNotMatch(text, /p w|again/);
    assert.match(p.problems.map((x) => x.message).join('\n'), /remote_password but no remote_username/);
  });

  it('drops an unmanaged bridge line that restates the default, and refuses one that does not', () => {
    const p = parse('connection edge', 'address h', 'topic a/#', 'try_private true', 'notifications 1', 'start_type lazy');
    assert.deepEqual(codes(p), ['default_dropped', 'default_dropped']);
    assert.deepEqual(problems(p), [[6, 'start_type on bridge edge is not managed by MCM (only the lines MCM manages can be imported for a bridge)']]);
  });

  it('refuses what the broker refuses: bridge lines outside a bridge, two address lines, a bridge without address or topic, a bad direction or QoS', () => {
    const p = parse('topic a/#', 'connection a', 'address h', 'address g', 'topic x/# sideways', 'topic y/# out 3', 'connection b', 'connection a');
    assert.deepEqual(p.problems.map((x) => x.line), [1, 4, 5, 6, 8, 2, 7, 7]);
    assert.match(p.problems[0]?.message ?? '', /topic outside a bridge/);
    assert.match(p.problems[1]?.message ?? '', /a second address line on bridge a/);
    assert.match(p.problems[2]?.message ?? '', /invalid bridge topic direction "sideways"/);
    assert.match(p.problems[3]?.message ?? '', /invalid bridge topic QoS "3"/);
    assert.match(p.problems[4]?.message ?? '', /a second bridge named "a"/);
    assert.match(p.problems[5]?.message ?? '', /bridge a has no topic line/);
    assert.match(p.problems[6]?.message ?? '', /bridge b has no address line/);
  });
});

describe('given lines MCM does not manage', () => {
  it('keeps global lines verbatim in passthrough, each flagged with its line', () => {
    const p = parse('listener 1883', 'memory_limit 0', 'frobnicate 3 4');
    assert.deepEqual(p.config.passthrough, ['memory_limit 0', 'frobnicate 3 4']);
    assert.deepEqual(p.warnings.map((w) => [w.line, w.code]), [[2, 'passthrough'], [3, 'passthrough']]);
    assert.match(p.warnings[0]?.message ?? '', /kept verbatim .*: memory_limit 0$/);
    assert.match(p.warnings[1]?.message ?? '', /frobnicate is not a Mosquitto 2.0\/2.1 directive MCM knows/);
    assert.deepEqual(p.origins.passthrough.map((o) => o.line), [2, 3]);
  });

  it('refuses a listener line it cannot move to the end of the file, unless it restates the default', () => {
    const p = parse('listener 1883', 'mount_point site/', 'use_username_as_clientid false', 'http_dir /www');
    assert.deepEqual(problems(p).map(([l]) => l), [2, 4]);
    assert.match(p.problems[0]?.message ?? '', /^mount_point on listener 1883 is not managed by MCM/);
    assert.deepEqual(codes(p), ['default_dropped']);
  });

  it('treats allow_zero_length_clientid as global, or as the listener\'s under per_listener_settings true', () => {
    assert.deepEqual(parse('listener 1883', 'allow_zero_length_clientid false').config.passthrough, ['allow_zero_length_clientid false']);
    const per = parse('per_listener_settings true', 'listener 1883', 'allow_zero_length_clientid false');
    assert.equal(per.problems.length, 1);
    assert.ok(codes(per).includes('per_listener_settings'));
  });

  it('leaves what MCM renders to MCM, warning where it changes what the operator relies on', () => {
    const p = parse(
      'password_file /etc/mosquitto/passwd', 'acl_file /etc/mosquitto/acl', 'allow_anonymous false',
      'plugin /usr/lib/mosquitto_dynamic_security.so', 'plugin_opt_config_file /x.json', 'plugin /usr/lib/mosquitto_password_file.so',
      'log_dest file /var/log/mosquitto/mosquitto.log', 'log_dest stdout', 'user root', 'user mosquitto', 'pid_file /run/m.pid',
      'connection_messages false', 'persistence true', 'persistence_location /var/lib/mosquitto/',
    );
    assert.deepEqual(p.problems, []);
    assert.deepEqual(p.config.passthrough, []);
    assert.deepEqual(codes(p), ['plugin_dropped', 'log_dest', 'user', 'persistence_location']);
    const same = parseBrokerConf(conf('persistence true', 'persistence_location /data/p/'), { owned: { persistenceLocation: '/data/p' } });
    assert.deepEqual(codes(same), []);
  });
});

describe('lines as the broker reads them [ref §7]', () => {
  it('skips # in column 1, blank lines and CRLF endings; an indented # or a tab is a directive the broker refuses', () => {
    const p = parseBrokerConf('# a comment\r\n\r\n   \nlistener 1883\r\n  # indented\n\tpersistence true\n');
    assert.equal(p.config.listeners.length, 1);
    assert.deepEqual(p.problems.map((x) => x.line), [5, 6]);
    assert.match(p.problems[0]?.message ?? '', /a comment must start in column 1/);
  });
});

describe('given include_dir', () => {
  it('reads each file where the include_dir line stands, each from a fresh scope, with its own line numbers', () => {
    const included = new Map([['conf.d', [
      { path: '/etc/mosquitto/conf.d/10.conf', text: conf('persistence true', 'max_connections 7') },
      { path: '/etc/mosquitto/conf.d/20.conf', text: conf('listener 8883', 'keyfile /k', 'include_dir elsewhere') },
    ]]]);
    const p = parseBrokerConf(conf('listener 1883', 'include_dir conf.d', 'persistence false', 'max_inflight_messages 30'), { included });
    assert.equal(p.config.options['persistence'], false, 'the main file\'s later line wins');
    assert.deepEqual(p.config.listeners.map((l) => [l.name, l.maxConnections]), [['mqtt-1883', null], ['mqtt-1883-2', 7]],
      'max_connections in an included file without a listener goes to the default listener, not to 1883');
    assert.deepEqual(p.includeDirs, ['conf.d']);
    assert.deepEqual(p.problems, [{ file: 'mosquitto_conf', line: 2, message: '/etc/mosquitto/conf.d/20.conf: listener 8883 has a keyfile without a certfile: the broker needs both' }]);
  });
});
