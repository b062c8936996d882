/**
 * What the broker configuration is checked against, from MCM's own configuration (issue 13): the
 * ports of MCM's own listeners (supervised: its control listener and websockets listener) and the
 * broker's line; and whether MCM writes this broker's configuration at all (supervised, or
 * external with `mosquitto.conf_fragment`).
 */
import type { BrokerConfigContext } from '../../core/decide/broker-config.ts';
import type { Config } from '../config/config.ts';

export const brokerContextOf = (config: Config, line: '2.0' | '2.1' | null): BrokerConfigContext => ({
  // MCM renders its own listener in supervised mode and in a whole external mosquitto.conf.
  reservedPorts: config.mosquitto.mode === 'supervised' || config.mosquitto.conf_file !== null
    ? [config.mqtt.port, ...(config.mqtt.websockets_port === null ? [] : [config.mqtt.websockets_port])]
    : [],
  version: line ?? '2.0',
});

export const brokerConfigManaged = (config: Config): boolean =>
  config.mosquitto.mode === 'supervised' || config.mosquitto.conf_fragment !== null || config.mosquitto.conf_file !== null;

export const UNMANAGED_MESSAGE = "MCM does not write this broker's mosquitto.conf (mosquitto.mode external without mosquitto.conf_fragment or conf_file)";
