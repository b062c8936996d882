/**
 * The directives MCM manages, per Mosquitto version: type, range, and whether a change takes
 * effect on a reload (SIGHUP) or needs a restart. Sources: mosquitto.conf(5) for 2.0 and 2.1 and
 * reference §3.2, which found that 2.0.11's reload parses but does not copy back
 * max_inflight_messages, max_queued_messages, max_keepalive, max_packet_size and retain_available
 * (so they are restart-only here, whatever the man page says), and that listeners and bridges are
 * never reloaded. Directives MCM sets itself (security, log destination, connection messages,
 * persistence_location, user) are listed in MCM_OWNED: an import leaves them to MCM.
 */

export type BrokerVersion = '2.0' | '2.1';
export const BROKER_VERSIONS: readonly BrokerVersion[] = ['2.0', '2.1'];

export type ApplyBy = 'reload' | 'restart';

export type DirectiveKind =
  | { type: 'bool' }
  | { type: 'int'; min: number; max: number }
  | { type: 'enum-list'; values: readonly string[] };

export type Directive = Readonly<{
  name: string;
  scope: 'global' | 'listener' | 'bridge';
  kind: DirectiveKind;
  apply: ApplyBy;
  versions: readonly BrokerVersion[];
  /** The broker's default per version, as the man page gives it (null: none / unlimited). */
  defaults: Readonly<Partial<Record<BrokerVersion, boolean | number | string | null>>>;
  summary: string;
}>;

const BOTH: readonly BrokerVersion[] = ['2.0', '2.1'];
const INT32 = 2_147_483_647;
/** MQTT's largest packet: a 4-byte remaining length (MQTT 5.0 §1.5.5). */
const MAX_PACKET = 268_435_455;

/**
 * log_type values an operator may add. MCM always renders error, warning, notice and information:
 * it reads the broker's errors, its connection lines, and "mosquitto version … running"
 * (information) tells the supervisor the broker is up. Never subscribe/unsubscribe: those lines
 * carry client-chosen topics that could forge a connection line (projections/mosquitto-conf.ts).
 */
export const LOG_TYPES = ['error', 'warning', 'notice', 'information', 'websockets'] as const;
export const REQUIRED_LOG_TYPES = ['error', 'warning', 'notice', 'information'] as const;

export const GLOBAL_DIRECTIVES: readonly Directive[] = [
  { name: 'persistence', scope: 'global', kind: { type: 'bool' }, apply: 'reload', versions: BOTH, defaults: { '2.0': false, '2.1': false }, summary: 'Save retained messages, subscriptions and queued messages to mosquitto.db' },
  { name: 'autosave_interval', scope: 'global', kind: { type: 'int', min: 0, max: 86_400 }, apply: 'reload', versions: BOTH, defaults: { '2.0': 1800, '2.1': 1800 }, summary: 'Seconds between saves of the persistence database (0: only on exit)' },
  { name: 'max_inflight_messages', scope: 'global', kind: { type: 'int', min: 0, max: 65_535 }, apply: 'restart', versions: BOTH, defaults: { '2.0': 20, '2.1': 20 }, summary: 'QoS 1/2 messages in flight per client (0: unlimited)' },
  { name: 'max_queued_messages', scope: 'global', kind: { type: 'int', min: 0, max: INT32 }, apply: 'restart', versions: BOTH, defaults: { '2.0': 1000, '2.1': 1000 }, summary: 'Messages queued per client beyond those in flight (0: unlimited)' },
  { name: 'message_size_limit', scope: 'global', kind: { type: 'int', min: 0, max: MAX_PACKET }, apply: 'reload', versions: BOTH, defaults: { '2.0': 0, '2.1': 0 }, summary: 'Largest PUBLISH payload accepted in bytes (0: unlimited); deprecated in favour of max_packet_size' },
  { name: 'max_packet_size', scope: 'global', kind: { type: 'int', min: 20, max: MAX_PACKET }, apply: 'restart', versions: BOTH, defaults: { '2.0': null, '2.1': 2_000_000 }, summary: 'Largest MQTT packet accepted in bytes (reference §8: 2.1 defaults to 2,000,000)' },
  { name: 'max_keepalive', scope: 'global', kind: { type: 'int', min: 10, max: 65_535 }, apply: 'restart', versions: BOTH, defaults: { '2.0': 65_535, '2.1': 65_535 }, summary: 'Largest keepalive a client may ask for, seconds' },
  { name: 'retain_available', scope: 'global', kind: { type: 'bool' }, apply: 'restart', versions: BOTH, defaults: { '2.0': true, '2.1': true }, summary: 'Whether clients may publish retained messages' },
  { name: 'sys_interval', scope: 'global', kind: { type: 'int', min: 1, max: 65_535 }, apply: 'reload', versions: BOTH, defaults: { '2.0': 10, '2.1': 10 }, summary: 'Seconds between $SYS updates (MCM needs them: 0 is refused)' },
  { name: 'log_type', scope: 'global', kind: { type: 'enum-list', values: LOG_TYPES }, apply: 'reload', versions: BOTH, defaults: { '2.0': 'error warning notice information', '2.1': 'error warning notice information' }, summary: 'Log types (error, warning, notice and information are always on: MCM reads them); add websockets' },
];

export const LISTENER_DIRECTIVES: readonly Directive[] = [
  { name: 'listener', scope: 'listener', kind: { type: 'int', min: 1, max: 65_535 }, apply: 'restart', versions: BOTH, defaults: {}, summary: 'Port and bind address' },
  { name: 'protocol', scope: 'listener', kind: { type: 'enum-list', values: ['mqtt', 'websockets'] }, apply: 'restart', versions: BOTH, defaults: { '2.0': 'mqtt', '2.1': 'mqtt' }, summary: 'mqtt or websockets' },
  { name: 'bind_interface', scope: 'listener', kind: { type: 'enum-list', values: [] }, apply: 'restart', versions: BOTH, defaults: {}, summary: 'Network interface to bind' },
  { name: 'max_connections', scope: 'listener', kind: { type: 'int', min: 1, max: INT32 }, apply: 'restart', versions: BOTH, defaults: { '2.0': null, '2.1': null }, summary: 'Connections this listener accepts (absent: unlimited)' },
  { name: 'certfile', scope: 'listener', kind: { type: 'enum-list', values: [] }, apply: 'restart', versions: BOTH, defaults: {}, summary: 'Server certificate (TLS)' },
  { name: 'keyfile', scope: 'listener', kind: { type: 'enum-list', values: [] }, apply: 'restart', versions: BOTH, defaults: {}, summary: 'Server private key (TLS)' },
  { name: 'cafile', scope: 'listener', kind: { type: 'enum-list', values: [] }, apply: 'restart', versions: BOTH, defaults: {}, summary: 'CA that client certificates chain to' },
  { name: 'tls_version', scope: 'listener', kind: { type: 'enum-list', values: ['tlsv1.2', 'tlsv1.3'] }, apply: 'restart', versions: BOTH, defaults: {}, summary: 'Lowest TLS version accepted' },
  { name: 'require_certificate', scope: 'listener', kind: { type: 'bool' }, apply: 'restart', versions: BOTH, defaults: { '2.0': false, '2.1': false }, summary: 'Clients must present a certificate (mTLS)' },
  { name: 'use_identity_as_username', scope: 'listener', kind: { type: 'bool' }, apply: 'restart', versions: BOTH, defaults: { '2.0': false, '2.1': false }, summary: 'The client certificate CN is the username' },
];

export const BRIDGE_DIRECTIVES: readonly string[] = [
  'connection', 'address', 'addresses', 'remote_username', 'remote_password', 'remote_clientid', 'bridge_cafile', 'bridge_certfile',
  'bridge_keyfile', 'bridge_tls_version', 'topic', 'cleansession', 'keepalive_interval',
];

/**
 * Directives MCM renders itself from its own configuration and state. Import does not keep them in
 * the passthrough block: a second `password_file` or `log_dest` would fight MCM's.
 */
export const MCM_OWNED: ReadonlySet<string> = new Set([
  'per_listener_settings', 'allow_anonymous', 'password_file', 'acl_file', 'plugin', 'plugin_opt_password_file',
  'plugin_opt_acl_file', 'global_plugin', 'auth_plugin', 'log_dest', 'connection_messages', 'log_timestamp',
  'log_timestamp_format', 'persistence_location', 'persistence_file', 'user', 'pid_file', 'include_dir', 'port', 'bind_address',
]);

const GLOBAL_BY_NAME = new Map(GLOBAL_DIRECTIVES.map((d) => [d.name, d]));

export const globalDirective = (name: string): Directive | undefined => GLOBAL_BY_NAME.get(name);

/** The catalog as the API and `mcm broker show --catalog` list it. */
export const catalogFor = (version: BrokerVersion): Directive[] =>
  [...GLOBAL_DIRECTIVES, ...LISTENER_DIRECTIVES].filter((d) => d.versions.includes(version));
