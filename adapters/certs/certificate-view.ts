/**
 * The API's view of a stored certificate (snake_case, DESIGN §8), shared by `GET /certificates`
 * and `mcm certs list` on a data dir: the facts, where it is used, and how long it has left.
 * Never the PEM or the key.
 */
import { certificateUses } from '../../core/broker-config/certificates.ts';
import type { Certificate } from '../../core/broker-config/model.ts';
import { currentBrokerConfig } from '../../core/decide/broker-config.ts';
import { byCodeUnit } from '../../core/evolve/records.ts';
import type { BrokerConfig } from '../../core/state.ts';

export type CertificateView = {
  name: string;
  fingerprint: string;
  subject: string;
  issuer: string;
  not_before: string;
  not_after: string;
  subject_alt_name: string;
  is_ca: boolean;
  has_key: boolean;
  ca: string | null;
  added_at: string;
  /** Whole days until not_after (negative once expired). */
  expires_in_days: number;
  /** `listener tls`, `bridge edge (CA)`, `certificate server` (signed by this CA): what keeps it from being removed. */
  uses: string[];
};

const DAY_MS = 86_400_000;

export const daysUntil = (iso: string, now: Date): number => Math.floor((Date.parse(iso) - now.getTime()) / DAY_MS);

/** What refers to certificate `name`: listeners and bridges, and the certificates it is the CA of. */
export const usesOf = (state: BrokerConfig, name: string): string[] => [
  ...certificateUses(currentBrokerConfig(state), name),
  ...Object.values(state.certificates ?? {}).filter((c) => c.ca === name).map((c) => `certificate ${c.name}`).sort(byCodeUnit),
];

export const certificateView = (state: BrokerConfig, c: Certificate, now: Date): CertificateView => ({
  name: c.name,
  fingerprint: c.fingerprint,
  subject: c.subject,
  issuer: c.issuer,
  not_before: c.notBefore,
  not_after: c.notAfter,
  subject_alt_name: c.subjectAltName,
  is_ca: c.isCa,
  has_key: c.hasKey,
  ca: c.ca,
  added_at: c.addedAt,
  expires_in_days: daysUntil(c.notAfter, now),
  uses: usesOf(state, c.name),
});

/** Every stored certificate, sorted by name. */
export const listCertificates = (state: BrokerConfig, now: Date): CertificateView[] =>
  Object.values(state.certificates ?? {}).sort((a, b) => byCodeUnit(a.name, b.name)).map((c) => certificateView(state, c, now));
