/**
 * Whether a new mosquitto.conf can be loaded with SIGHUP or needs a restart: the file without the
 * lines a reload re-reads (reference §3.2: security files and allow_anonymous, persistence,
 * logging, message_size_limit, sys_interval) and without comments and blank lines. Two files with
 * the same key differ only in what a reload applies. Everything else — listeners, bridges, the
 * limits 2.0.11 parses but does not copy back, unknown passthrough lines — needs a restart.
 */
const RELOADED = new Set([
  'allow_anonymous', 'password_file', 'acl_file', 'plugin_opt_password_file', 'plugin_opt_acl_file',
  'persistence', 'persistence_location', 'autosave_interval', 'autosave_on_changes', 'persistent_client_expiration',
  'log_dest', 'log_type', 'log_timestamp', 'log_timestamp_format', 'connection_messages',
  'message_size_limit', 'sys_interval', 'clientid_prefixes', 'allow_duplicate_messages', 'queue_qos0_messages',
  'upgrade_outgoing_qos', 'memory_limit', 'allow_zero_length_clientid', 'auto_id_prefix',
]);

export const restartKey = (conf: string): string =>
  conf.split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#') && !RELOADED.has(line.split(' ')[0] ?? ''))
    .join('\n');

export const confNeedsRestart = (running: string, next: string): boolean => restartKey(running) !== restartKey(next);
