/**
 * broker.yaml of a GitOps bundle (issue 13 "Broker configuration as events"): the broker
 * configuration in the model's own shape (core/broker-config/model.ts). TLS certificates and
 * bridge passwords are secrets, so a bundle only names them; they must already be in the target
 * data dir (`mcm certs add`, a bridge password set through the API).
 *
 * Checked twice with validateBrokerConfig, so GitOps refuses exactly what the API refuses:
 * - without a data dir (`brokerSectionProblems`, part of bundleProblems, so a problem in a file
 *   gets its line): every value, each named certificate assumed to exist and fit;
 * - against the data dir (`planBroker`): that the named certificates and password references
 *   are there, that a certificate has the key or is the CA its place needs, MCM's own ports.
 * The plan is one SetBrokerConfig with the whole configuration, and its changes as
 * core/broker-config/changes.ts sees them (added, changed, removed; reload or restart).
 */
import { canonicalJson } from './canonical-json.ts';
import type { Command } from './commands.ts';
import { isDomainError, type ErrorDetail } from './errors.ts';
import { configChanges } from './broker-config/changes.ts';
import type { BrokerConfigModel, Certificate } from './broker-config/model.ts';
import { validateBrokerConfig, type ConfigContext } from './broker-config/validate.ts';
import { currentBrokerConfig, type BrokerConfigContext } from './decide/broker-config.ts';
import type { GitopsBroker, GitopsProblem } from './gitops-bundle.ts';
import type { PlanChange } from './gitops-plan.ts';
import type { BrokerConfig } from './state.ts';

export type BrokerPlanOptions = Readonly<{
  /** MCM's own listener ports and the broker's version (as the broker API checks them); none and 2.0 when absent. */
  broker?: BrokerConfigContext;
  /**
   * Whether `secrets/<ref>` holds a bridge password in the target data dir. A reference the
   * current configuration uses resolves without asking; without this, no other one does.
   */
  bridgePasswordExists?: (ref: string) => boolean;
}>;

export type BrokerChange = Extract<PlanChange, { type: 'broker_added' | 'broker_changed' | 'broker_removed' }>;
export type BrokerPlan = { problems: GitopsProblem[]; commands: Command[]; changes: BrokerChange[] };

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const escape = (step: string): string => step.replace(/~/g, '~0').replace(/\//g, '~1');

/** validateBrokerConfig's field (`listeners[0].tls.certificate`) as a bundle pointer (`/broker/listeners/0/tls/certificate`). */
export const brokerPointer = (field: string): string => {
  const rest = field.startsWith('config.') ? field.slice('config.'.length) : field === 'config' ? '' : field;
  if (rest === '') return '/broker';
  // An option's name is one step even if it holds a dot.
  if (rest.startsWith('options.')) return `/broker/options/${escape(rest.slice('options.'.length))}`;
  return `/broker/${rest.replace(/\[(\d+)\]/g, '.$1').split('.').map(escape).join('/')}`;
};

const problemsOf = (details: readonly ErrorDetail[]): GitopsProblem[] =>
  details.map((d) => ({ section: 'broker', path: brokerPointer(String(d['field'] ?? 'config')), message: String(d['message'] ?? 'is invalid') }));

type Checked = { config: BrokerConfigModel; problems: [] } | { config: null; problems: GitopsProblem[] };

const check = (raw: GitopsBroker, ctx: ConfigContext): Checked => {
  try {
    return { config: validateBrokerConfig(raw, ctx), problems: [] };
  } catch (e) {
    if (!isDomainError(e)) throw e;
    return { config: null, problems: problemsOf(e.details) };
  }
};

/** A stand-in for a certificate that is only named: whether it exists is the data dir's question. */
const assumed = (name: string): Certificate => ({
  name, fingerprint: '', subject: '', issuer: '', notBefore: '', notAfter: '', subjectAltName: '', isCa: true, hasKey: true, ca: null, addedAt: '',
});

const namedCertificates = (raw: GitopsBroker): string[] => {
  const names: string[] = [];
  const take = (item: unknown): void => {
    const tls = isObject(item) ? item['tls'] : null;
    if (!isObject(tls)) return;
    for (const key of ['certificate', 'ca']) if (typeof tls[key] === 'string') names.push(tls[key]);
  };
  raw.listeners.forEach(take);
  raw.bridges.forEach(take);
  return names;
};

const withoutDataDir = (raw: GitopsBroker): ConfigContext => ({
  // Object.fromEntries defines own properties, so a certificate named "__proto__" is one too.
  certificates: Object.fromEntries(namedCertificates(raw).map((n) => [n, assumed(n)])),
  reservedPorts: [],
  version: '2.0',
});

const PASSWORD = /^\/broker\/bridges\/\d+\/remotePassword$/;
const NO_PASSWORD = 'a bundle cannot carry a bridge password (it would be in Git): set it on the target MCM ' +
  '(PUT /api/v1/broker/bridges/NAME with remotePassword) and use the remotePasswordRef its export shows';

/** Every problem of broker.yaml that does not depend on the target data dir. */
export const brokerSectionProblems = (raw: GitopsBroker): GitopsProblem[] =>
  check(raw, withoutDataDir(raw)).problems.map((p) => (PASSWORD.test(p.path) ? { ...p, message: NO_PASSWORD } : p));

/** Certificates and bridge password references of `config` that the target data dir does not hold. */
const unresolved = (config: BrokerConfigModel, state: BrokerConfig, opts: BrokerPlanOptions): GitopsProblem[] => {
  const certificates = state.certificates ?? {};
  const out: GitopsProblem[] = [];
  const cert = (name: string | null, path: string, use: string): void => {
    if (name === null || Object.hasOwn(certificates, name)) return;
    out.push({ section: 'broker', path, message: `certificate ${JSON.stringify(name)} (${use}) is not in this data dir: add it with mcm certs add` });
  };
  config.listeners.forEach((l, i) => {
    cert(l.tls?.certificate ?? null, `/broker/listeners/${i}/tls/certificate`, `listener ${l.name}`);
    cert(l.tls?.ca ?? null, `/broker/listeners/${i}/tls/ca`, `CA of listener ${l.name}`);
  });
  const inUse = new Set(currentBrokerConfig(state).bridges.map((b) => b.remotePasswordRef));
  config.bridges.forEach((b, i) => {
    cert(b.tls?.ca ?? null, `/broker/bridges/${i}/tls/ca`, `CA of bridge ${b.name}`);
    cert(b.tls?.certificate ?? null, `/broker/bridges/${i}/tls/certificate`, `bridge ${b.name}`);
    const ref = b.remotePasswordRef;
    if (ref === null || inUse.has(ref) || opts.bridgePasswordExists?.(ref) === true) return;
    out.push({
      section: 'broker', path: `/broker/bridges/${i}/remotePasswordRef`,
      message: `bridge password ${JSON.stringify(ref)} (bridge ${b.name}) is not in this data dir: a bundle cannot carry a password; ` +
        `set it on this MCM (PUT /api/v1/broker/bridges/${b.name} with remotePassword) and export again`,
    });
  });
  return out;
};

/** Whether the items both lists have appear in another order (rendered in order, so a change). */
const reordered = (a: readonly { name: string }[], b: readonly { name: string }[]): boolean => {
  const inA = new Set(a.map((x) => x.name));
  const inB = new Set(b.map((x) => x.name));
  return a.filter((x) => inB.has(x.name)).map((x) => x.name).join('\n') !== b.filter((x) => inA.has(x.name)).map((x) => x.name).join('\n');
};

const TYPE = { added: 'broker_added', changed: 'broker_changed', removed: 'broker_removed' } as const;

const changesOf = (from: BrokerConfigModel, to: BrokerConfigModel): BrokerChange[] => {
  const changes: BrokerChange[] = configChanges(from, to).map((c) => ({ type: TYPE[c.kind], what: c.what, apply: c.apply }));
  if (reordered(from.listeners, to.listeners)) changes.push({ type: 'broker_changed', what: 'order of listeners', apply: 'restart' });
  if (reordered(from.bridges, to.bridges)) changes.push({ type: 'broker_changed', what: 'order of bridges', apply: 'restart' });
  return changes;
};

/**
 * The SetBrokerConfig that makes the data dir's broker configuration what `raw` describes (none
 * when it already is), or every problem of `raw` against that data dir.
 */
export const planBroker = (state: BrokerConfig, raw: GitopsBroker, opts: BrokerPlanOptions): BrokerPlan => {
  const loose = check(raw, withoutDataDir(raw));
  if (loose.config === null) return { problems: loose.problems, commands: [], changes: [] };
  const missing = unresolved(loose.config, state, opts);
  const ctx = opts.broker ?? { reservedPorts: [], version: '2.0' };
  const strict = check(raw, { certificates: state.certificates ?? {}, reservedPorts: ctx.reservedPorts, version: ctx.version });
  // A missing certificate is also validateBrokerConfig's problem: said once, the GitOps way.
  const said = new Set(missing.map((p) => p.path));
  const problems = [...missing, ...strict.problems.filter((p) => !said.has(p.path))];
  if (problems.length > 0 || strict.config === null) return { problems, commands: [], changes: [] };
  const current = currentBrokerConfig(state);
  if (canonicalJson(strict.config) === canonicalJson(current)) return { problems: [], commands: [], changes: [] };
  const changes = changesOf(current, strict.config);
  return { problems: [], commands: [{ type: 'SetBrokerConfig', data: { config: strict.config } }], changes };
};
