/**
 * The broker configuration MCM manages (issue "Broker configuration as events"): listeners, global
 * options, bridges and a passthrough block, folded from `BrokerConfigChanged` events. No secret
 * appears here: TLS material is named by certificate (state.certificates, key in `secrets/`), a
 * bridge password by a reference to a file in `secrets/` that the adapter reads at render time.
 */

export const TLS_VERSIONS = ['tlsv1.2', 'tlsv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

export type ListenerTls = {
  /** Name of a certificate with a private key (state.certificates): certfile + keyfile. */
  certificate: string;
  /** Name of a CA certificate: cafile, needed for require_certificate (client certificates chain to it). */
  ca: string | null;
  /** tls_version: the lowest version the listener accepts. */
  minVersion: TlsVersion;
  requireCertificate: boolean;
  /** The client certificate's CN becomes the username (ACLs then apply to it); needs requireCertificate. */
  useIdentityAsUsername: boolean;
};

export type Listener = {
  /** Stable handle, `[a-z0-9][a-z0-9-]*` ≤ 32: routes, diffs and probes name listeners by it. */
  name: string;
  port: number;
  protocol: 'mqtt' | 'websockets';
  /** IP address to bind (mqtt only), or null. */
  address: string | null;
  /** Network interface to bind (`bind_interface`; for websockets the listener's host), or null. */
  bindInterface: string | null;
  tls: ListenerTls | null;
  /** max_connections; null = unlimited (the broker's default -1). */
  maxConnections: number | null;
};

export const BRIDGE_DIRECTIONS = ['in', 'out', 'both'] as const;
export type BridgeDirection = (typeof BRIDGE_DIRECTIONS)[number];

export type BridgeTopic = {
  /** Topic pattern (may be '' when both prefixes are set, mosquitto.conf(5) `topic`). */
  pattern: string;
  direction: BridgeDirection;
  qos: 0 | 1 | 2;
  localPrefix: string;
  remotePrefix: string;
};

export type Bridge = {
  /** The `connection` name (also the bridge's default client id). */
  name: string;
  /** Tried in order (`address host:port host:port`). */
  addresses: { host: string; port: number }[];
  remoteUsername: string | null;
  /** Reference to the password in `secrets/` (the adapter stores it and names it); never the password. */
  remotePasswordRef: string | null;
  remoteClientId: string | null;
  /** TLS to the remote: CA to verify it, optional client certificate (name with key). */
  tls: { ca: string; certificate: string | null; version: TlsVersion | null } | null;
  topics: BridgeTopic[];
  cleansession: boolean;
  keepalive: number;
};

export type OptionValue = boolean | number | string | string[];

export type BrokerConfigModel = {
  listeners: Listener[];
  /** Global directives from the catalog (core/broker-config/catalog.ts), by name. Absent = broker default. */
  options: Record<string, OptionValue>;
  bridges: Bridge[];
  /**
   * Lines MCM does not manage, found on import: rendered verbatim at the end of the file (after
   * MCM's own lines, so a listener-scoped line applies to the last listener as it did before).
   */
  passthrough: string[];
};

export type Certificate = {
  name: string;
  /** SHA-256 of the DER certificate, hex, upper case with colons as openssl prints it. */
  fingerprint: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  /** Subject alternative names as the certificate lists them. */
  subjectAltName: string;
  isCa: boolean;
  /** A private key is stored in `secrets/` (listener and bridge client certificates need one). */
  hasKey: boolean;
  /** Name of the CA certificate it was checked against, if any. */
  ca: string | null;
  addedAt: string;
};

export const emptyBrokerConfig = (): BrokerConfigModel => ({ listeners: [], options: {}, bridges: [], passthrough: [] });
