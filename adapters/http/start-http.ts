/**
 * Mounts the HTTP API on a running server (the `http` hook of adapters/main.ts): builds the HTTP
 * deps from the server's, creates the first admin when none exists (DESIGN §9), listens on
 * config.http (HTTPS when configured), and closes cleanly.
 */
import type { ServerDeps } from '../main.ts';
import { createHttpApp } from './app.ts';
import { createAdminHasher } from './auth/admin-hasher.ts';
import { bootstrapAdmin } from './auth/bootstrap.ts';
import { createOpenidRelyingParty, oidcClientSecret } from './auth/oidc-client.ts';
import { createAuthServices } from './auth/services.ts';
import type { HttpDeps } from './deps.ts';
import { createHttpServer, isTlsEnabled, listenHttpServer } from './server.ts';
import { createWsHub } from '../ws/hub.ts';
import { wsAuthenticator } from '../ws/ws-auth.ts';
import { observerSnapshot } from '../mqtt/observer-api.ts';

export type RunningHttp = { url: string; close(): Promise<void> };

export const buildHttpDeps = (deps: ServerDeps): HttpDeps => {
  const { oidc } = deps.config.auth;
  const base = {
    store: deps.store,
    commits: deps.commits,
    clock: deps.clock,
    config: deps.config,
    logger: deps.logger,
    mqttHasher: deps.mqttHasher,
    adminHasher: createAdminHasher({ cost: deps.config.auth.bcrypt_cost }),
    securityLog: deps.securityLog,
    secrets: deps.secrets,
    serviceAccount: deps.serviceAccount.username,
    backend: deps.config.mosquitto.backend,
    apply: deps.apply,
    readiness: deps.readiness,
    db: deps.db,
    metrics: deps.metrics,
    schemaStats: deps.schemaValidator,
    sparkplug: deps.sparkplug,
    observer: deps.observation.api,
    brokerConfig: deps.brokerConfig,
    oidc: oidc === null ? null : createOpenidRelyingParty(oidc, oidcClientSecret(oidc, process.env, deps.secrets)),
  } satisfies Omit<HttpDeps, 'auth'>;
  return { ...base, auth: createAuthServices(base) };
};

export const startHttp = async (deps: ServerDeps): Promise<RunningHttp> => {
  const httpDeps = buildHttpDeps(deps);
  await bootstrapAdmin(httpDeps);
  const app = createHttpApp(httpDeps);
  const server = createHttpServer(app.callback(), deps.config.http.tls);
  const auth = httpDeps.auth;
  if (!auth) throw new Error('buildHttpDeps always builds the auth services');
  const hub = createWsHub({
    bus: deps.bus,
    // The same token check as REST: expiry and revocation close sockets too (DESIGN §7).
    authenticate: wsAuthenticator({ store: deps.store, tokens: auth.tokens, apiTokens: auth.apiTokens }),
    clock: deps.clock,
    logger: deps.logger,
    snapshot: () => {
      const s = observerSnapshot(deps.observation.api);
      return { ...s, status: { ...s.status, apply: deps.applyLoop.status() } };
    },
    metrics: deps.metrics,
    securityLog: deps.securityLog,
  });
  hub.attach(server);
  deps.metrics.setSources({ wsClients: () => hub.clientCount() });
  let addr;
  try {
    addr = await listenHttpServer(server, deps.config.http.host, deps.config.http.port);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') {
      throw new Error(`HTTP port ${deps.config.http.host}:${deps.config.http.port} is already in use: set MCM_HTTP_PORT (or http.port) to a free port`);
    }
    throw e;
  }
  const scheme = isTlsEnabled(deps.config.http.tls) ? 'https' : 'http';
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  const url = `${scheme}://${host}:${addr.port}`;
  deps.lock.setUrl(url);
  // The first thing a new operator needs: where to open the UI.
  deps.logger.info({ url, ui: `${url}/`, api: `${url}/api/v1` }, `web UI at ${url}/ (API at ${url}/api/v1)`);
  return {
    url,
    close: async () => {
      // The hub first: server.close() waits for upgraded sockets.
      await hub.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
};
