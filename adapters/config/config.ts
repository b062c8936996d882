/**
 * The resolved configuration (built-in defaults ← mcm.yaml ← environment, DESIGN §8). Keys are
 * snake_case and reuse Mosquitto's words (password_file, acl_file). `mcm.example.yaml` documents
 * every key; adapters/config/schema.ts validates the file.
 */
import type { OidcSettings } from './oidc-config.ts';

export type { OidcSettings };
export type TlsClientAuth = 'none' | 'optional' | 'required';
export type ReloadStrategy = 'supervised' | 'signal' | 'command' | 'docker' | 'none';

export type Config = {
  data_dir: string;
  log_level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  http: {
    host: string;
    port: number;
    /** Proxies whose X-Forwarded-For is trusted (exact IPs). */
    trust_proxies: string[];
    body_limit_bytes: number;
    /** The built web UI (scripts/build-ui.ts output); null = ui/dist of this installation. */
    ui_dir: string | null;
    tls: { cert: string | null; key: string | null; min_version: 'TLSv1.2' | 'TLSv1.3'; client_ca: string | null; client_auth: TlsClientAuth };
  };
  mqtt: {
    /** The broker MCM observes; in supervised mode also the listener it configures. */
    host: string;
    port: number;
    /** Optional websocket listener in supervised mode (bound to interface `lo`, reference §7). */
    websockets_port: number | null;
    service_account: { username: string };
    tls: { enabled: boolean; ca: string | null; cert: string | null; key: string | null; reject_unauthorized: boolean };
  };
  mosquitto: {
    mode: 'supervised' | 'external';
    /**
     * Where users, roles and rules are enforced (issue 15): `files` renders password_file and
     * acl_file and reloads; `dynsec` reconciles the dynamic-security plugin over
     * `$CONTROL/dynamic-security/v1` (reference §6), no reload. Supervised mode only for now.
     */
    backend: 'files' | 'dynsec';
    /** The dynamic-security plugin: its shared object (null: the Debian package's path, found beside the binary). */
    dynsec: { plugin: string | null };
    /** Binary for supervised mode. */
    binary: string;
    /**
     * Supervised mode with Mosquitto 2.1+: the directory of `mosquitto_password_file.so` and
     * `mosquitto_acl_file.so` (mosquitto.conf then uses the plugin form, reference §8); null = the
     * `lib` directory beside the binary's prefix (/usr/sbin/mosquitto → /usr/lib).
     */
    plugin_dir: string | null;
    /** Absolute paths of the rendered files; null = `<data_dir>/mosquitto/{passwd,acl}`. */
    password_file: string | null;
    acl_file: string | null;
    reload: {
      strategy: ReloadStrategy;
      pid_file: string | null;
      command: string[];
      docker: { socket: string; container: string | null };
    };
    /**
     * External mode: where MCM writes the broker configuration it manages (listeners, TLS, limits,
     * bridges; issue 13) as a fragment the broker's own mosquitto.conf reads through `include_dir`.
     * Null: MCM does not touch the broker's configuration. Only a file MCM wrote (or none) is used.
     */
    conf_fragment: string | null;
    /**
     * External mode, instead of a fragment: a whole mosquitto.conf MCM writes (security lines, its
     * own listener on mqtt.host:mqtt.port, persistence in persistence_dir, the operator's listeners,
     * limits and bridges); the broker is started with `mosquitto -c <this file>`. Null: no.
     */
    conf_file: string | null;
    /** External mode with conf_file: the broker's persistence directory (persistence_location). */
    persistence_dir: string;
    /**
     * External mode: the command that restarts the broker for a change a reload cannot apply
     * (listeners, bridges, several limits; reference §3.2), e.g. [systemctl, restart, mosquitto].
     * Empty: such a change is written and reported as waiting for a restart.
     */
    restart_command: string[];
    /** What to do when a rendered file is edited outside MCM. */
    drift: 'restore' | 'report';
    probe: { timeout_ms: number; interval_s: number };
    /** The longest a continuous burst of appends is held back before one render+reload (a change after a 2 ms pause applies at once; closer appends wait for a 2 ms pause). */
    debounce_ms: number;
  };
  auth: {
    jwt_ttl_s: number;
    bcrypt_cost: number;
    /**
     * Sign-in lockout (DESIGN §9): the (address, username) pair locks after max_failures within
     * window_s, the address (IPv6 by its /64) after max_failures_per_address; a username is never
     * locked, its attempts wait 1 s doubling up to max_delay_s once it has max_failures.
     */
    lockout: { max_failures: number; max_failures_per_address: number; window_s: number; max_delay_s: number };
    mfa_issuer: string;
    /** Single sign-on with OpenID Connect (adapters/config/oidc-config.ts); null = off. */
    oidc: OidcSettings | null;
  };
  metrics: { token: string | null };
  gitops: { watch_dir: string | null };
  webhooks: { allow_private: boolean; max_attempts: number; retention_days: number; max_pending: number };
  /** Retention and aggregation of security events (issue "second hardening round"). */
  security_events: { retention_days: number; max_rows: number; aggregate_window_s: number };
  /** log_file: a broker log to follow for connection lines (external brokers with `log_dest file`). */
  observer: { max_topics: number; history_depth: number; log_file: string | null };
  /** Set from the environment only (DESIGN §8), used once to create the first admin. */
  bootstrap_admin: { username: string | null; password: string | null };
  /**
   * External broker with mosquitto.backend dynsec: an admin of the plugin MCM uses once to set up
   * its own service account (MCM_DYNSEC_ADMIN_USERNAME / MCM_DYNSEC_ADMIN_PASSWORD; environment
   * only, never in the file, never stored).
   */
  dynsec_admin: { username: string | null; password: string | null };
};
