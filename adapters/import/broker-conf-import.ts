/**
 * The broker configuration of `mcm import --conf` and `POST /import` (issue "Broker configuration
 * as events"): the certificates the conf names are checked (adapters/certs/check-certificate.ts),
 * the plan validates the configuration against them (core/import/plan-broker-conf.ts), and
 * applying stores what must stay out of the event log — PEMs and keys in the cert store, bridge
 * passwords under a reference — right before the batch that records their facts and references.
 * Stored too early and refused after all, they are put back (as adapters/certs/add-certificate.ts does).
 */
import { rmSync } from 'node:fs';
import { brokerConfigManaged, brokerContextOf, UNMANAGED_MESSAGE } from '../broker-config/broker-context.ts';
import type { BrokerConfigModel } from '../../core/broker-config/model.ts';
import type { Command } from '../../core/commands.ts';
import { currentBrokerConfig, type BrokerConfigContext } from '../../core/decide/broker-config.ts';
import { ERROR_CODES, isDomainError } from '../../core/errors.ts';
import { simulateBatch } from '../../core/handle-batch.ts';
import type { BrokerLine, ImportDifference, ImportProblem, ImportWarning } from '../../core/import/import-types.ts';
import type { ParsedBrokerConf } from '../../core/import/parse-broker-conf.ts';
import {
  brokerConfCommands, brokerConfDifferences, brokerConfProblems, importedConfig, type BrokerConfInput,
} from '../../core/import/plan-broker-conf.ts';
import type { BrokerConfig } from '../../core/state.ts';
import type { CertStore } from '../certs/cert-store.ts';
import type { Config } from '../config/config.ts';
import { checkCertificate, factsOf, type CheckedCertificate } from '../certs/check-certificate.ts';
import type { BridgePasswords } from '../secrets/bridge-passwords.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { importInvalid } from './import-file.ts';
import type { ConfPaths } from './read-mosquitto-conf.ts';

export type PreparedBrokerConf = Readonly<{
  parsed: ParsedBrokerConf;
  /** Every certificate the conf names, checked, with the PEMs to store. */
  certificates: readonly CheckedCertificate[];
  /** Bridge name → remote password: held in memory until stored in `secrets/`, never in an event or a message. */
  passwords: ReadonlyMap<string, string>;
}>;

/** What `broker_config` of an import plan says. No PEM, no key, no password. */
export type BrokerConfPlan = {
  /** Applying appends certificate or configuration events. */
  changes: boolean;
  /** The configuration that will be set (bridge passwords by reference; `bridge-pw.pending` until stored). */
  config: BrokerConfigModel;
  certificates: { name: string; subject: string; not_after: string; is_ca: boolean; has_key: boolean; notes: readonly string[] }[];
  differences: ImportDifference[];
};

/**
 * What an imported configuration is checked against: MCM's own listener ports when it renders
 * mosquitto.conf (supervised: mqtt.port, mqtt.websockets_port) and the broker's release line.
 */
export { brokerContextOf };

/** External mode: MCM does not write the broker's mosquitto.conf, so an imported configuration waits. */
export const externalModeWarnings = (config: Config): ImportWarning[] => (brokerConfigManaged(config) ? [] : [{
  file: 'mosquitto_conf', code: 'broker_config_not_rendered',
  message: `${UNMANAGED_MESSAGE}: the broker configuration is recorded and takes effect once MCM writes it (supervised, or mosquitto.conf_fragment)`,
}]);

/** The reference a bridge password gets in a plan before it is stored. */
export const PENDING_PASSWORD_REF = 'bridge-pw.pending';

/**
 * Checks every certificate the conf names at `now` (key match, dates, readable PEM); refuses
 * (MCM_ERR_IMPORT_INVALID) with every problem on the conf line that names the file.
 */
export const prepareBrokerConf = (broker: ConfPaths['broker'], now: Date): PreparedBrokerConf => {
  const problems: ImportProblem[] = [];
  const certificates: CheckedCertificate[] = [];
  for (const f of broker.tlsFiles) {
    const c = f.certificate;
    try {
      certificates.push(checkCertificate({ name: c.name, certPem: f.certPem, keyPem: f.keyPem, now }));
    } catch (e) {
      if (!isDomainError(e) || e.code !== ERROR_CODES.CERTIFICATE_INVALID) throw e;
      const message = `${c.ca ? 'CA ' : ''}${c.certfile}${c.keyfile === null ? '' : ` with key ${c.keyfile}`}: ${e.message}`;
      problems.push({ file: 'mosquitto_conf', line: c.origin.line, message: c.origin.source === null ? message : `${c.origin.source}: ${message}` });
    }
  }
  if (problems.length > 0) throw importInvalid(problems, 'the mosquitto.conf');
  return { parsed: broker.parsed, certificates, passwords: new Map(broker.parsed.bridgePasswords.map((p) => [p.bridge, p.password])) };
};

/**
 * The reference of each bridge password in a plan: the one MCM has for that bridge when it
 * holds the same password (a second import changes nothing), else PENDING_PASSWORD_REF.
 */
export const plannedPasswordRefs = (prepared: PreparedBrokerConf, state: BrokerConfig, passwords: BridgePasswords | null): Map<string, string> => {
  const refs = new Map<string, string>();
  const bridges = currentBrokerConfig(state).bridges;
  for (const [bridge, password] of prepared.passwords) {
    const ref = bridges.find((b) => b.name === bridge)?.remotePasswordRef ?? null;
    refs.set(bridge, ref !== null && passwords?.read(ref) === password ? ref : PENDING_PASSWORD_REF);
  }
  return refs;
};

const inputOf = (prepared: PreparedBrokerConf, refs: ReadonlyMap<string, string>): BrokerConfInput =>
  ({ parsed: prepared.parsed, certificates: prepared.certificates.map(factsOf), passwordRefs: refs });

/**
 * The commands (AddCertificate…, SetBrokerConfig) and the plan. Refuses (MCM_ERR_IMPORT_INVALID)
 * with every reason the configuration is invalid, each on its conf line.
 */
export const planBrokerConf = (
  prepared: PreparedBrokerConf, state: BrokerConfig, ctx: BrokerConfigContext, refs: ReadonlyMap<string, string>,
): { commands: Command[]; plan: BrokerConfPlan } => {
  const input = inputOf(prepared, refs);
  const problems = brokerConfProblems(input, state, ctx);
  if (problems.length > 0) throw importInvalid(problems, 'the mosquitto.conf');
  const commands = brokerConfCommands(input, state);
  const { events } = simulateBatch(commands, state, { broker: ctx });
  return {
    commands,
    plan: {
      changes: events.length > 0,
      config: importedConfig(input),
      certificates: prepared.certificates.map((c) => ({ name: c.name, subject: c.subject, not_after: c.notAfter, is_ca: c.isCa, has_key: c.hasKey, notes: c.notes })),
      differences: brokerConfDifferences(input, state),
    },
  };
};

export type BrokerConfSecrets = Readonly<{ secrets: SecretStore; certs: CertStore; passwords: BridgePasswords }>;

/**
 * Stores the PEMs and the bridge passwords that have no reference yet; returns the references to
 * plan with and `undo`, which puts back what was there (for a batch refused after all).
 */
export const storeBrokerConfSecrets = (
  prepared: PreparedBrokerConf, planned: ReadonlyMap<string, string>, deps: BrokerConfSecrets,
): { refs: Map<string, string>; undo: () => void } => {
  const undo: (() => void)[] = [];
  const refs = new Map(planned);
  try {
    for (const c of prepared.certificates) {
      const previous = deps.certs.read(c.name);
      deps.certs.write(c.name, c.certPem, c.keyPem);
      undo.push(() => (previous === null ? deps.certs.remove(c.name) : deps.certs.write(c.name, previous.cert, previous.key)));
    }
    for (const [bridge, password] of prepared.passwords) {
      if (planned.get(bridge) !== PENDING_PASSWORD_REF) continue;
      const ref = deps.passwords.store(password);
      refs.set(bridge, ref);
      undo.push(() => rmSync(deps.secrets.path(ref), { force: true }));
    }
  } catch (e) {
    for (const u of undo.reverse()) u();
    throw e;
  }
  return { refs, undo: () => { for (const u of undo.reverse()) u(); } };
};
