/**
 * Which mosquitto.conf MCM writes and how (issue "Broker configuration as events"): supervised,
 * the broker's whole file; external, an include_dir fragment (mosquitto.conf_fragment) or a whole
 * file the operator starts the broker with (mosquitto.conf_file); or none. A builder for
 * adapters/main.ts (the composition root): it decides nothing at run time.
 */
import { dirname, join } from 'node:path';
import type { BrokerFilesOptions, FileSpec } from '../apply/broker-files.ts';
import type { CertStore } from '../certs/cert-store.ts';
import type { Config } from '../config/config.ts';
import { brokerLineOf, defaultPluginDir } from '../mosquitto/broker-version.ts';
import type { BrokerPaths } from '../mosquitto/broker-paths.ts';
import { externalConfFile, externalFragment } from '../mosquitto/external-conf.ts';
import type { BridgePasswords } from '../secrets/bridge-passwords.ts';

export type ConfFileChoice = Readonly<{
  conf: BrokerFilesOptions['conf'];
  /** External: the file MCM writes (fragment or whole), or null. */
  externalConf: string | null;
  /** Where the broker reads the TLS files the configuration names. */
  tlsDir: string;
}>;

export const confFileOptions = (o: Readonly<{
  config: Config;
  paths: BrokerPaths;
  spec: (name: FileSpec['name'], path: string) => FileSpec;
  /** Supervised: the pair's symlinked paths (pair-switch.ts). */
  pair: { passwordPath: string; aclPath: string } | null;
  binaryVersion: string | null;
  certs: CertStore;
  bridgePasswords: BridgePasswords;
  /** Supervised with the dynamic-security backend (issue 15): the plugin replaces the files. */
  dynsec?: { plugin: string; configFile: string } | null;
}>): ConfFileChoice => {
  const { config, paths, spec } = o;
  const supervised = config.mosquitto.mode === 'supervised';
  // Throw at start when a named file exists and MCM did not write it (never overwritten).
  const fragment = supervised ? null : externalFragment(config.mosquitto.conf_fragment);
  const confFile = supervised ? null : externalConfFile(config.mosquitto.conf_file, fragment);
  const externalConf = fragment ?? confFile;
  const tlsDir = externalConf ? join(dirname(externalConf), 'mcm-tls') : join(paths.brokerDir, 'tls');
  const common = { secrets: { tlsDir, bridgePassword: (ref: string) => o.bridgePasswords.read(ref) }, certs: o.certs };
  const base = { passwordFile: paths.passwordFile, aclFile: paths.aclFile, host: config.mqtt.host, port: config.mqtt.port };
  if (supervised) {
    return {
      externalConf, tlsDir,
      conf: {
        spec: spec('mosquitto_conf', paths.confPath),
        options: {
          ...base,
          passwordFile: o.pair?.passwordPath ?? paths.passwordFile,
          aclFile: o.pair?.aclPath ?? paths.aclFile,
          websocketsPort: config.mqtt.websockets_port,
          persistenceDir: paths.persistenceDir,
          // A 2.1 binary gets the plugin form (reference §8).
          pluginDir: brokerLineOf(o.binaryVersion) === '2.1' ? (config.mosquitto.plugin_dir ?? defaultPluginDir(config.mosquitto.binary)) : null,
          dynsec: o.dynsec ?? null,
        },
        ...common,
      },
    };
  }
  if (fragment) {
    // The fragment carries no security lines or MCM listener: the options stay unused.
    return { externalConf, tlsDir, conf: { spec: spec('mosquitto_conf', fragment), form: 'fragment', options: { ...base, persistenceDir: '/nonexistent' }, ...common } };
  }
  if (confFile) {
    return {
      externalConf, tlsDir,
      conf: {
        // The whole file: the broker runs `mosquitto -c <conf_file>`; MCM's listener is mqtt.host:mqtt.port.
        spec: spec('mosquitto_conf', confFile),
        options: {
          ...base, websocketsPort: config.mqtt.websockets_port, persistenceDir: config.mosquitto.persistence_dir,
          // The broker's line is known only once it runs: a 2.1 broker is named by plugin_dir (reference §8).
          pluginDir: config.mosquitto.plugin_dir, logFile: config.observer.log_file,
        },
        ...common,
      },
    };
  }
  return { externalConf: null, tlsDir, conf: null };
};
