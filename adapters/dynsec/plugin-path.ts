/**
 * Where the dynamic-security plugin is (reference §6.1: the path is distribution-specific). The
 * Debian package puts it in the multiarch lib directory beside the binary's prefix.
 */
import { existsSync } from 'node:fs';
import { defaultPluginDir } from '../mosquitto/broker-version.ts';

const SO = 'mosquitto_dynamic_security.so';

export const dynsecPluginCandidates = (binary: string): string[] => {
  const lib = defaultPluginDir(binary.includes('/') ? binary : '/usr/sbin/mosquitto');
  return [`${lib}/x86_64-linux-gnu/${SO}`, `${lib}/aarch64-linux-gnu/${SO}`, `${lib}/arm-linux-gnueabihf/${SO}`, `${lib}/${SO}`, `/usr/local/lib/${SO}`];
};

/** The first candidate that exists beside `binary` (default: the Debian layout), or null. */
export const locateDynsecPlugin = (binary = '/usr/sbin/mosquitto'): string | null => dynsecPluginCandidates(binary).find((p) => existsSync(p)) ?? null;

/** The configured plugin, or the first candidate that exists; throws naming where it looked. */
export const findDynsecPlugin = (configured: string | null, binary: string): string => {
  if (configured !== null) {
    if (!existsSync(configured)) throw new Error(`mosquitto.dynsec.plugin ${configured} does not exist`);
    return configured;
  }
  const candidates = dynsecPluginCandidates(binary);
  const found = locateDynsecPlugin(binary);
  if (!found) throw new Error(`mosquitto.backend is "dynsec" but the dynamic-security plugin was not found (looked at ${candidates.join(', ')}): install the mosquitto package or set mosquitto.dynsec.plugin`);
  return found;
};
