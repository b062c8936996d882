/**
 * Deciding the broker configuration (issue "Broker configuration as events"). Every command
 * builds the whole next configuration and validates it with the catalog, so a listener added
 * through `/broker/listeners` meets the same checks as a full `PUT /broker/config`; an unchanged
 * configuration emits nothing.
 */
import { canonicalJson } from '../canonical-json.ts';
import type { CommandOf } from '../commands.ts';
import { DomainError, ERROR_CODES } from '../errors.ts';
import type { DomainEvent } from '../events.ts';
import type { BrokerConfig } from '../state.ts';
import type { BrokerVersion } from '../broker-config/catalog.ts';
import { assertCertificateFacts, assertCertificateName, certificateUses } from '../broker-config/certificates.ts';
import { emptyBrokerConfig, type BrokerConfigModel } from '../broker-config/model.ts';
import { validateBrokerConfig } from '../broker-config/validate.ts';
import { own, show } from './guards.ts';

export type BrokerConfigContext = Readonly<{ reservedPorts: readonly number[]; version: BrokerVersion }>;

const DEFAULT_CONTEXT: BrokerConfigContext = { reservedPorts: [], version: '2.0' };

export const currentBrokerConfig = (state: BrokerConfig): BrokerConfigModel => state.brokerConfig ?? emptyBrokerConfig();

const changed = (state: BrokerConfig, next: unknown, ctx: BrokerConfigContext = DEFAULT_CONTEXT): DomainEvent[] => {
  const config = validateBrokerConfig(next, { certificates: state.certificates ?? {}, reservedPorts: ctx.reservedPorts, version: ctx.version });
  return canonicalJson(config) === canonicalJson(currentBrokerConfig(state)) ? [] : [{ type: 'BrokerConfigChanged', data: { config } }];
};

const nameOf = (v: unknown): unknown => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as { name?: unknown }).name : undefined);

export const setBrokerConfig = (c: CommandOf<'SetBrokerConfig'>, state: BrokerConfig, ctx?: BrokerConfigContext): DomainEvent[] => changed(state, c.data.config, ctx);

export const setBrokerListener = (c: CommandOf<'SetBrokerListener'>, state: BrokerConfig, ctx?: BrokerConfigContext): DomainEvent[] => {
  const cur = currentBrokerConfig(state);
  const name = nameOf(c.data.listener);
  const listeners: unknown[] = cur.listeners.some((l) => l.name === name)
    ? cur.listeners.map((l) => (l.name === name ? c.data.listener : l))
    : [...cur.listeners, c.data.listener];
  return changed(state, { ...cur, listeners }, ctx);
};

export const removeBrokerListener = (c: CommandOf<'RemoveBrokerListener'>, state: BrokerConfig, ctx?: BrokerConfigContext): DomainEvent[] => {
  const cur = currentBrokerConfig(state);
  if (!cur.listeners.some((l) => l.name === c.data.name)) throw new DomainError(ERROR_CODES.LISTENER_NOT_FOUND, `no listener named ${show(c.data.name)}`, [{ name: c.data.name }]);
  return changed(state, { ...cur, listeners: cur.listeners.filter((l) => l.name !== c.data.name) }, ctx);
};

export const setBrokerBridge = (c: CommandOf<'SetBrokerBridge'>, state: BrokerConfig, ctx?: BrokerConfigContext): DomainEvent[] => {
  const cur = currentBrokerConfig(state);
  const name = nameOf(c.data.bridge);
  const bridges: unknown[] = cur.bridges.some((b) => b.name === name)
    ? cur.bridges.map((b) => (b.name === name ? c.data.bridge : b))
    : [...cur.bridges, c.data.bridge];
  return changed(state, { ...cur, bridges }, ctx);
};

export const removeBrokerBridge = (c: CommandOf<'RemoveBrokerBridge'>, state: BrokerConfig, ctx?: BrokerConfigContext): DomainEvent[] => {
  const cur = currentBrokerConfig(state);
  if (!cur.bridges.some((b) => b.name === c.data.name)) throw new DomainError(ERROR_CODES.BRIDGE_NOT_FOUND, `no bridge named ${show(c.data.name)}`, [{ name: c.data.name }]);
  return changed(state, { ...cur, bridges: cur.bridges.filter((b) => b.name !== c.data.name) }, ctx);
};

export const addCertificate = (c: CommandOf<'AddCertificate'>, state: BrokerConfig): DomainEvent[] => {
  const facts = assertCertificateFacts(c.data as unknown as Record<string, unknown>);
  const existing = own(state.certificates ?? {}, facts.name);
  if (existing && c.data.replace !== true) {
    throw new DomainError(ERROR_CODES.CERTIFICATE_EXISTS, `a certificate named ${show(facts.name)} exists (replace it with --replace / "replace": true)`, [{ name: facts.name }]);
  }
  if (facts.ca !== null && !own(state.certificates ?? {}, facts.ca)?.isCa) {
    throw new DomainError(ERROR_CODES.CERTIFICATE_INVALID, `CA ${show(facts.ca)} is not a stored CA certificate`, [{ field: 'ca', value: facts.ca }]);
  }
  if (existing && facts.ca === facts.name) throw new DomainError(ERROR_CODES.CERTIFICATE_INVALID, 'a certificate cannot name itself as its CA', [{ field: 'ca' }]);
  if (existing) {
    // A replacement must still fit where the old one is used: a listener needs a key, a CA slot a CA.
    const config = currentBrokerConfig(state);
    const needsKey = config.listeners.some((l) => l.tls?.certificate === facts.name) || config.bridges.some((b) => b.tls?.certificate === facts.name);
    const needsCa = config.listeners.some((l) => l.tls?.ca === facts.name);
    if (needsKey && !facts.hasKey) throw new DomainError(ERROR_CODES.CERTIFICATE_INVALID, `${facts.name} is used by ${certificateUses(config, facts.name).join(', ')}: the replacement needs its private key`, [{ field: 'key' }]);
    if (needsCa && !facts.isCa) throw new DomainError(ERROR_CODES.CERTIFICATE_INVALID, `${facts.name} is used as a CA: the replacement must be a CA certificate`, [{ field: 'cert' }]);
    if (canonicalJson({ ...existing, addedAt: null }) === canonicalJson({ ...facts, addedAt: null })) return [];
  }
  return [{ type: 'CertificateAdded', data: facts }];
};

export const removeCertificate = (c: CommandOf<'RemoveCertificate'>, state: BrokerConfig): DomainEvent[] => {
  const name = assertCertificateName(c.data.name);
  if (!own(state.certificates ?? {}, name)) throw new DomainError(ERROR_CODES.CERTIFICATE_NOT_FOUND, `no certificate named ${show(name)}`, [{ name }]);
  const uses = certificateUses(currentBrokerConfig(state), name);
  const signed = Object.values(state.certificates ?? {}).filter((x) => x.ca === name).map((x) => `certificate ${x.name}`);
  if (uses.length + signed.length > 0) {
    throw new DomainError(ERROR_CODES.CERTIFICATE_IN_USE, `certificate ${name} is used by ${[...uses, ...signed].join(', ')}`, [{ name, usedBy: [...uses, ...signed] }]);
  }
  return [{ type: 'CertificateRemoved', data: { name } }];
};
