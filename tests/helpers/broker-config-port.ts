/**
 * A BrokerConfigPort (adapters/broker-config/broker-config-service.ts) for HTTP tests without a
 * supervised broker: renders with the real renderer at fixed paths; MCM's own listener on 1883.
 */
import type { BrokerConfigPort } from '../../adapters/broker-config/broker-config-service.ts';
import { renderMosquittoConf } from '../../projections/mosquitto-conf.ts';

export const testBrokerConfigPort = (over: Partial<BrokerConfigPort> = {}): BrokerConfigPort => {
  let n = 0;
  const stored = new Map<string, string>();
  return {
    render: (config, allowAnonymous) => renderMosquittoConf({
      passwordFile: '/srv/mcm/passwd', aclFile: '/srv/mcm/acl', allowAnonymous, host: '127.0.0.1', port: 1883,
      persistenceDir: '/srv/mcm/persistence', broker: { config, secrets: { tlsDir: '/srv/mcm/tls', bridgePassword: () => null } }, redact: true,
    }),
    context: () => ({ reservedPorts: [1883], version: '2.0' }),
    connectedClients: () => 0,
    storeBridgePassword: (pw) => {
      const ref = `bridge-pw.${(++n).toString(16).padStart(16, '0')}`;
      stored.set(ref, pw);
      return ref;
    },
    bridgePasswordIs: (ref, pw) => stored.get(ref) === pw,
    hasBridgePassword: (ref) => stored.has(ref),
    ...over,
  };
};
