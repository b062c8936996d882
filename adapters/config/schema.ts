/**
 * JSON Schema of mcm.yaml. Every key is optional (the file is merged over the built-in defaults)
 * and every object has additionalProperties: false, so a misspelt key is an error rather than a
 * setting silently ignored. `bootstrap_admin` and `dynsec_admin` are deliberately absent: they come from the
 * environment only (DESIGN §8), so a password never sits in a config file.
 */

import { oidcSchema } from './oidc-config.ts';

const str = { type: 'string', minLength: 1 } as const;
const nullableStr = { type: ['string', 'null'], minLength: 1 } as const;
const bool = { type: 'boolean' } as const;
const int = (minimum: number, maximum?: number) =>
  (maximum === undefined ? { type: 'integer', minimum } : { type: 'integer', minimum, maximum }) as {
    type: 'integer'; minimum: number; maximum?: number;
  };
const obj = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, properties }) as const;

const tcpPort = int(1, 65535);

export const configFileSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'mcm.yaml',
  ...obj({
    data_dir: str,
    log_level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    http: obj({
      host: str,
      // 0 = any free port (tests); the bound port is logged.
      port: int(0, 65535),
      trust_proxies: { type: 'array', items: str, uniqueItems: true },
      body_limit_bytes: int(1024),
      ui_dir: nullableStr,
      tls: obj({
        cert: nullableStr,
        key: nullableStr,
        min_version: { enum: ['TLSv1.2', 'TLSv1.3'] },
        client_ca: nullableStr,
        client_auth: { enum: ['none', 'optional', 'required'] },
      }),
    }),
    mqtt: obj({
      host: str,
      port: tcpPort,
      websockets_port: { type: ['integer', 'null'], minimum: 1, maximum: 65535 },
      service_account: obj({
        // Mosquitto usernames: no ':' (password-file separator), no whitespace, no topic wildcards
        // or '/' (reference §1.3; DESIGN §5).
        username: { type: 'string', minLength: 1, maxLength: 256, pattern: '^[^:\\s+#/]+$' },
      }),
      tls: obj({ enabled: bool, ca: nullableStr, cert: nullableStr, key: nullableStr, reject_unauthorized: bool }),
    }),
    mosquitto: obj({
      mode: { enum: ['supervised', 'external'] },
      binary: str,
      backend: { enum: ['files', 'dynsec'] },
      dynsec: obj({ plugin: nullableStr }),
      plugin_dir: nullableStr,
      password_file: nullableStr,
      acl_file: nullableStr,
      reload: obj({
        strategy: { enum: ['supervised', 'signal', 'command', 'docker', 'none'] },
        pid_file: nullableStr,
        command: { type: 'array', items: str },
        docker: obj({ socket: str, container: nullableStr }),
      }),
      conf_fragment: nullableStr,
      conf_file: nullableStr,
      persistence_dir: str,
      restart_command: { type: 'array', items: str },
      drift: { enum: ['restore', 'report'] },
      probe: obj({ timeout_ms: int(100, 600_000), interval_s: int(1, 86_400) }),
      debounce_ms: int(0, 60_000),
    }),
    auth: obj({
      jwt_ttl_s: int(60, 30 * 86_400),
      // bcrypt accepts 4..31; below 12 is allowed for tests and warned about (DESIGN §9).
      bcrypt_cost: int(4, 31),
      lockout: obj({ max_failures: int(1), max_failures_per_address: int(1), window_s: int(1), max_delay_s: int(0, 3600) }),
      mfa_issuer: str,
      oidc: oidcSchema,
    }),
    metrics: obj({
      // A bearer token for /metrics; short tokens are guessable.
      token: { type: ['string', 'null'], minLength: 16 },
    }),
    gitops: obj({ watch_dir: nullableStr }),
    webhooks: obj({ allow_private: bool, max_attempts: int(1, 100), retention_days: int(1, 3650), max_pending: int(100, 10_000_000) }),
    security_events: obj({ retention_days: int(1, 36_500), max_rows: int(1000, 100_000_000), aggregate_window_s: int(0, 86_400) }),
    observer: obj({ max_topics: int(1), history_depth: int(0, 10_000), log_file: nullableStr }),
  }),
} as const;
