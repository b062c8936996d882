/**
 * The broker-configuration half of `mcm import --conf` (issue "Broker configuration as events"):
 * the parsed conf (parse-broker-conf.ts) and the facts of the certificates it names (checked by
 * the adapter) become commands — AddCertificate for each certificate, then one SetBrokerConfig —
 * that go in the same batch as ImportBrokerFiles. The configuration is validated here against
 * the certificates about to be added, so every problem names its line in the conf, not a field
 * path. Pure: passwords never come here, only the references the adapter stored them under.
 */
import type { CertificateFacts } from '../broker-config/certificates.ts';
import type { Bridge, BrokerConfigModel, Certificate, Listener, OptionValue } from '../broker-config/model.ts';
import { validateBrokerConfig } from '../broker-config/validate.ts';
import type { Command } from '../commands.ts';
import { currentBrokerConfig, type BrokerConfigContext } from '../decide/broker-config.ts';
import { canonicalJson } from '../canonical-json.ts';
import { ERROR_CODES, isDomainError } from '../errors.ts';
import { own } from '../evolve/records.ts';
import type { BrokerConfig } from '../state.ts';
import type { ConfOrigin, ParsedBrokerConf } from './parse-broker-conf.ts';
import type { ImportDifference, ImportProblem } from './import-types.ts';

export type BrokerConfInput = Readonly<{
  parsed: ParsedBrokerConf;
  /** The checked facts of every certificate in `parsed.files.certificates`. */
  certificates: readonly CertificateFacts[];
  /** Bridge name → the reference its remote_password is (or will be) stored under in `secrets/`. */
  passwordRefs: ReadonlyMap<string, string>;
}>;

/** The configuration to set: the parsed one with the bridge password references filled in. */
export const importedConfig = (input: BrokerConfInput): BrokerConfigModel => ({
  ...input.parsed.config,
  bridges: input.parsed.config.bridges.map((b) => ({ ...b, remotePasswordRef: input.passwordRefs.get(b.name) ?? null })),
});

const originOf = (field: unknown, parsed: ParsedBrokerConf): ConfOrigin => {
  const f = typeof field === 'string' ? field : '';
  const indexed = /^(listeners|bridges|passthrough)\[(\d+)\]/.exec(f);
  if (indexed) return parsed.origins[indexed[1] as 'listeners' | 'bridges' | 'passthrough'][Number(indexed[2])] ?? { line: 0, source: null };
  const option = /^options\.(.+)$/.exec(f);
  if (option) return own(parsed.origins.options, option[1] as string) ?? { line: 0, source: null };
  return { line: 0, source: null };
};

/**
 * Every reason the imported configuration would be refused (validateBrokerConfig with the
 * certificates being imported), each on the line it comes from; [] when it is valid.
 */
export const brokerConfProblems = (input: BrokerConfInput, state: BrokerConfig, ctx: BrokerConfigContext): ImportProblem[] => {
  const certificates: Record<string, Certificate> = { ...(state.certificates ?? {}) };
  for (const f of input.certificates) certificates[f.name] = { ...f, addedAt: '' };
  try {
    validateBrokerConfig(importedConfig(input), { certificates, reservedPorts: ctx.reservedPorts, version: ctx.version });
    return [];
  } catch (e) {
    if (!isDomainError(e) || e.code !== ERROR_CODES.BROKER_CONFIG_INVALID) throw e;
    return e.details.map((d) => {
      const o = originOf(d['field'], input.parsed);
      const message = String(d['message'] ?? e.message);
      return { file: 'mosquitto_conf', line: o.line, message: o.source === null ? message : `${o.source}: ${message}` };
    });
  }
};

/** AddCertificate for each certificate (CAs first; a name MCM has already is replaced), then SetBrokerConfig. */
export const brokerConfCommands = (input: BrokerConfInput, state: BrokerConfig): Command[] => [
  ...[...input.certificates].sort((a, b) => Number(b.isCa) - Number(a.isCa)).map((f): Command => ({
    type: 'AddCertificate',
    data: { ...f, ...(own(state.certificates ?? {}, f.name) ? { replace: true } : {}) },
  })),
  { type: 'SetBrokerConfig', data: { config: importedConfig(input) } },
];

const where = (l: Listener): string =>
  (l.address !== null ? `on ${l.address}` : l.bindInterface !== null ? `on interface ${l.bindInterface}` : 'on every interface');

/** `tls-8883: port 8883 mqtt on every interface, TLS tls-8883-cert (CA tls-8883-ca, client certificates required)`. */
export const describeListener = (l: Listener): string => {
  const tls = l.tls === null ? '' : `, TLS ${l.tls.certificate} (${[
    `from ${l.tls.minVersion}`,
    ...(l.tls.ca === null ? [] : [`CA ${l.tls.ca}`]),
    ...(l.tls.requireCertificate ? ['client certificates required'] : []),
    ...(l.tls.useIdentityAsUsername ? ['certificate CN as username'] : []),
  ].join(', ')})`;
  const max = l.maxConnections === null ? '' : `, at most ${l.maxConnections} connections`;
  return `${l.name}: port ${l.port} ${l.protocol} ${where(l)}${tls}${max}`;
};

/** `edge → remote.example.com:8883 (2 topics, user bridge-user with password, TLS CA edge-ca)`. */
export const describeBridge = (b: Bridge): string => {
  const parts = [
    `${b.topics.length} topic${b.topics.length === 1 ? '' : 's'}`,
    ...(b.remoteUsername === null ? [] : [`user ${b.remoteUsername}${b.remotePasswordRef === null ? '' : ' with password'}`]),
    ...(b.tls === null ? [] : [`TLS CA ${b.tls.ca}${b.tls.certificate === null ? '' : `, client certificate ${b.tls.certificate}`}`]),
  ];
  return `${b.name} → ${b.addresses.map((a) => `${a.host}:${a.port}`).join(' ')} (${parts.join(', ')})`;
};

const optionText = (v: OptionValue): string => (Array.isArray(v) ? v.join(' ') : String(v));

/**
 * What setting the imported configuration changes in MCM's, in words, each with the conf line it
 * comes from: `+ listener …`, `~ option persistence: false → true`, `- bridge old`, `+ passthrough …`.
 */
export const brokerConfDifferences = (input: BrokerConfInput, state: BrokerConfig): ImportDifference[] => {
  const next = importedConfig(input);
  const cur = currentBrokerConfig(state);
  const { origins } = input.parsed;
  const out: ImportDifference[] = [];
  const at = (o: ConfOrigin | undefined, text: string): void => {
    out.push({ file: 'mosquitto_conf', ...(o !== undefined && o.line > 0 && o.source === null ? { line: o.line } : {}), text });
  };
  for (const f of input.certificates) {
    const had = own(state.certificates ?? {}, f.name);
    const same = had !== undefined && canonicalJson({ ...had, addedAt: null }) === canonicalJson({ ...f, addedAt: null });
    if (!same) at(undefined, `${had ? '~' : '+'} certificate ${f.name}: ${f.isCa ? 'CA ' : ''}${f.subject} until ${f.notAfter.slice(0, 10)}`);
  }
  const diffNamed = <T extends { name: string }>(kind: string, now: readonly T[], before: readonly T[], os: readonly ConfOrigin[], text: (x: T) => string): void => {
    now.forEach((x, i) => {
      const was = before.find((y) => y.name === x.name);
      if (was === undefined) at(os[i], `+ ${kind} ${text(x)}`);
      else if (canonicalJson(was) !== canonicalJson(x)) at(os[i], `~ ${kind} ${text(x)}`);
    });
    for (const y of before) if (!now.some((x) => x.name === y.name)) at(undefined, `- ${kind} ${text(y)}`);
  };
  diffNamed('listener', next.listeners, cur.listeners, origins.listeners, describeListener);
  for (const name of Object.keys(next.options).sort()) {
    const v = next.options[name] as OptionValue;
    const was = own(cur.options, name);
    if (was === undefined) at(own(origins.options, name), `+ option ${name} ${optionText(v)}`);
    else if (canonicalJson(was) !== canonicalJson(v)) at(own(origins.options, name), `~ option ${name}: ${optionText(was)} → ${optionText(v)}`);
  }
  for (const name of Object.keys(cur.options).sort()) {
    if (!Object.hasOwn(next.options, name)) at(undefined, `- option ${name} ${optionText(cur.options[name] as OptionValue)} (back to the default)`);
  }
  diffNamed('bridge', next.bridges, cur.bridges, origins.bridges, describeBridge);
  next.passthrough.forEach((l, i) => { if (!cur.passthrough.includes(l)) at(origins.passthrough[i], `+ passthrough ${l}`); });
  for (const l of cur.passthrough) if (!next.passthrough.includes(l)) at(undefined, `- passthrough ${l}`);
  return out;
};
