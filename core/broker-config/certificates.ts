/**
 * Certificates as the core sees them: facts the adapter read from a PEM it checked (X.509 parsing,
 * key match, dates and chain need crypto, so they happen in adapters/certs). The core checks the
 * name and the shape and keeps a certificate in use from being removed.
 */
import { DomainError, ERROR_CODES } from '../errors.ts';
import { show } from '../decide/guards.ts';
import type { BrokerConfigModel, Certificate } from './model.ts';

export type CertificateFacts = Omit<Certificate, 'addedAt'>;

export const CERTIFICATE_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export const assertCertificateName = (name: unknown, field = 'name'): string => {
  if (typeof name !== 'string' || !CERTIFICATE_NAME.test(name)) {
    throw new DomainError(ERROR_CODES.CERTIFICATE_INVALID, `a certificate name is 1–64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit (got ${show(name)})`, [{ field, value: name }]);
  }
  return name;
};

/** Where a certificate is used: `listener tls`, `bridge edge (ca)`, … (empty when unused). */
export const certificateUses = (config: BrokerConfigModel, name: string): string[] => {
  const uses: string[] = [];
  for (const l of config.listeners) {
    if (l.tls?.certificate === name) uses.push(`listener ${l.name}`);
    if (l.tls?.ca === name) uses.push(`listener ${l.name} (CA)`);
  }
  for (const b of config.bridges) {
    if (b.tls?.ca === name) uses.push(`bridge ${b.name} (CA)`);
    if (b.tls?.certificate === name) uses.push(`bridge ${b.name}`);
  }
  return uses;
};

const FACT_FIELDS: readonly (keyof CertificateFacts)[] = ['name', 'fingerprint', 'subject', 'issuer', 'notBefore', 'notAfter', 'subjectAltName', 'isCa', 'hasKey', 'ca'];

export const assertCertificateFacts = (data: Record<string, unknown>): CertificateFacts => {
  const name = assertCertificateName(data.name);
  const bad = (field: string): never => { throw new DomainError(ERROR_CODES.CERTIFICATE_INVALID, `certificate ${field} is missing or malformed`, [{ field }]); };
  if (typeof data.fingerprint !== 'string' || !/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(data.fingerprint)) bad('fingerprint');
  for (const f of ['subject', 'issuer', 'subjectAltName'] as const) if (typeof data[f] !== 'string' || (data[f] as string).length > 4096) bad(f);
  for (const f of ['notBefore', 'notAfter'] as const) if (typeof data[f] !== 'string' || Number.isNaN(Date.parse(data[f] as string))) bad(f);
  if (typeof data.isCa !== 'boolean') bad('isCa');
  if (typeof data.hasKey !== 'boolean') bad('hasKey');
  if (data.ca !== null && data.ca !== undefined && typeof data.ca !== 'string') bad('ca');
  const facts = Object.fromEntries(FACT_FIELDS.map((f) => [f, data[f] ?? null])) as CertificateFacts;
  return { ...facts, name };
};
