/**
 * Mosquitto's directives by where they apply, for importing a mosquitto.conf (issue "Broker
 * configuration as events"). Source: src/conf.c `config__read_file_core` (2.0 and 2.1) and
 * mosquitto.conf(5). A listener-scoped directive applies to the last `listener` line before it
 * in the same file (or to the default listener when there is none), a bridge-scoped one to the
 * last `connection` line, wherever global lines sit in between. MCM renders the directives it
 * manages itself and keeps the rest verbatim at the end of the file (passthrough), where a
 * listener- or bridge-scoped line would land on another listener or bridge: those cannot be kept.
 */

/** Listener-scoped directives MCM does not manage. */
export const UNMANAGED_LISTENER_DIRECTIVES: ReadonlySet<string> = new Set([
  'accept_protocol_versions', 'capath', 'ciphers', 'ciphers_tls1.3', 'crlfile', 'dhparamfile', 'disable_client_cert_date_checks',
  'http_dir', 'max_qos', 'maximum_qos', 'max_topic_alias', 'max_topic_alias_broker', 'mount_point', 'psk_hint', 'socket_domain',
  'tls_engine', 'tls_engine_kpass_sha1', 'tls_keyform', 'use_subject_as_username', 'use_username_as_clientid', 'websockets_origin',
]);

/** Security options that belong to the current listener only under `per_listener_settings true`. */
export const PER_LISTENER_SECURITY_DIRECTIVES: ReadonlySet<string> = new Set(['allow_zero_length_clientid', 'auto_id_prefix', 'psk_file']);

/** Bridge-scoped directives MCM does not manage. */
export const UNMANAGED_BRIDGE_DIRECTIVES: ReadonlySet<string> = new Set([
  'bridge_alpn', 'bridge_attempt_unsubscribe', 'bridge_bind_address', 'bridge_capath', 'bridge_ciphers', 'bridge_ciphers_tls1.3',
  'bridge_identity', 'bridge_insecure', 'bridge_max_packet_size', 'bridge_max_topic_alias', 'bridge_outgoing_retain',
  'bridge_protocol_version', 'bridge_psk', 'bridge_receive_maximum', 'bridge_reload_type', 'bridge_require_ocsp',
  'bridge_session_expiry_interval', 'bridge_tcp_keepalive', 'bridge_tcp_user_timeout', 'idle_timeout', 'local_cleansession',
  'local_clientid', 'local_password', 'local_username', 'notification_topic', 'notifications', 'notifications_local_only',
  'restart_timeout', 'round_robin', 'start_type', 'threshold', 'try_private',
]);

/** Global directives Mosquitto knows and MCM does not manage: kept verbatim (passthrough). */
export const UNMANAGED_GLOBAL_DIRECTIVES: ReadonlySet<string> = new Set([
  'allow_duplicate_messages', 'allow_zero_length_clientid', 'auto_id_prefix', 'autosave_on_changes', 'check_retain_source',
  'clientid_prefixes', 'enable_control_api', 'global_max_clients', 'global_max_connections', 'log_facility', 'max_inflight_bytes',
  'max_queued_bytes', 'memory_limit', 'persistent_client_expiration', 'psk_file', 'queue_qos0_messages', 'retry_interval',
  'set_tcp_nodelay', 'upgrade_outgoing_qos', 'websockets_headers_size', 'websockets_log_level',
]);

/**
 * The broker's own value of unmanaged listener and bridge directives (conf.c `connection`
 * defaults, listener__set_defaults): a line that only restates it changes nothing, so dropping it
 * keeps the broker's behaviour. Booleans are written as the broker reads them (`1`/`0` too).
 */
export const DIRECTIVE_DEFAULTS: Readonly<Record<string, string>> = {
  try_private: 'true',
  notifications: 'true',
  notifications_local_only: 'false',
  start_type: 'automatic',
  bridge_protocol_version: 'mqttv311',
  bridge_attempt_unsubscribe: 'true',
  bridge_outgoing_retain: 'true',
  bridge_insecure: 'false',
  bridge_require_ocsp: 'false',
  round_robin: 'false',
  idle_timeout: '60',
  threshold: '10',
  use_username_as_clientid: 'false',
  use_subject_as_username: 'false',
  max_qos: '2',
  maximum_qos: '2',
};

const BOOL_WORD: Readonly<Record<string, string>> = { 1: 'true', 0: 'false' };

/** True when `value` (the token after the directive) is the broker's default for `directive`. */
export const isDefaultValue = (directive: string, value: string | null): boolean => {
  const d = DIRECTIVE_DEFAULTS[directive];
  if (d === undefined || value === null) return false;
  return value === d || BOOL_WORD[value] === d;
};

/** Aliases the broker accepts for bridge directives (conf.c): the older names. */
export const BRIDGE_ALIASES: Readonly<Record<string, string>> = { clientid: 'remote_clientid', username: 'remote_username', password: 'remote_password', addresses: 'address' };
