/**
 * Checks a TLS certificate (and its key) before MCM stores it for the broker (issue 13): X.509
 * parsing, key match, validity dates and the chain to a CA need crypto, so they happen here and
 * the core only sees the facts (core/broker-config/certificates.ts). A certificate Mosquitto
 * would refuse at start (key mismatch, unreadable key) or that clients would refuse (expired,
 * not chained to the CA the listener names) is refused now, with a sentence that says why.
 * No message ever quotes the private key.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { assertCertificateName, type CertificateFacts } from '../../core/broker-config/certificates.ts';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';

export type CheckCertificateInput = Readonly<{
  name: string;
  certPem: string;
  keyPem?: string | null;
  /** The CA certificate (PEM) the certificate must chain to, and its name in MCM. */
  caPem?: string | null;
  caName?: string | null;
  now: Date;
}>;

export type CheckedCertificate = CertificateFacts & Readonly<{
  /** What the operator should know but that is no reason to refuse (a chain given: its first certificate is the one described). */
  notes: readonly string[];
  /** The certificate PEM to store: the leaf first, then the rest of the chain, each block on its own. */
  certPem: string;
  /** The key to store (PKCS#8 PEM, unencrypted), or null. */
  keyPem: string | null;
}>;

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/;

const invalid = (field: string, message: string): DomainError =>
  new DomainError(ERROR_CODES.CERTIFICATE_INVALID, message, [{ field, message }]);

/** OpenSSL's reason without its numeric prefix (`error:1E08010C:DECODER routines::unsupported` → `unsupported`). */
const reasonOf = (e: unknown): string => {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/i, '').trim() || 'unreadable';
};

const parseCert = (pem: string, field: string, what: string): X509Certificate => {
  try {
    return new X509Certificate(pem);
  } catch (e) {
    throw invalid(field, `${what} is not a readable X.509 certificate (${reasonOf(e)})`);
  }
};

/** Mosquitto reads keyfile without a prompt: a key with a passphrase would stop the broker at start. */
const isEncrypted = (pem: string): boolean => /-----BEGIN ENCRYPTED PRIVATE KEY-----/.test(pem) || /Proc-Type:\s*4,ENCRYPTED/i.test(pem);

const ENCRYPTED = 'the private key is protected by a passphrase, which Mosquitto cannot be given without a prompt: '
  + 'remove it first (openssl pkey -in key.pem -out key-plain.pem) and keep the plain key file private';

const parseKey = (pem: string): KeyObject => {
  if (isEncrypted(pem)) throw invalid('key', ENCRYPTED);
  if (!KEY_BLOCK.test(pem)) throw invalid('key', 'the key is not a PEM private key (expected a block beginning with -----BEGIN PRIVATE KEY-----, RSA or EC)');
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (code === 'ERR_MISSING_PASSPHRASE' || /interrupted or cancelled|bad decrypt/i.test(reasonOf(e))) throw invalid('key', ENCRYPTED);
    throw invalid('key', `the private key is not readable (${reasonOf(e)})`);
  }
};

/** `CN=a\nO=b` (Node's form) → `CN=a, O=b` (one line for lists and logs). */
const oneLine = (dn: string): string => dn.split('\n').filter((l) => l !== '').join(', ');

const describe = (c: X509Certificate): string => `"${oneLine(c.subject)}"`;

const issuedBy = (child: X509Certificate, parent: X509Certificate): boolean => child.checkIssued(parent) && child.verify(parent.publicKey);

/** A chain given with the certificate must be one: each certificate issued (names) and signed (key) by the next. */
const assertChainLinks = (chain: readonly X509Certificate[]): void => {
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i] as X509Certificate;
    const parent = chain[i + 1] as X509Certificate;
    if (!issuedBy(child, parent)) {
      throw invalid('cert', `the chain is broken: ${describe(child)} is not issued by the certificate after it, ${describe(parent)} (give the certificate first, then its issuers in order)`);
    }
  }
};

/** The chain (links already checked) reaches `ca`: it contains the CA, or its last certificate is issued by it. */
const assertChainsTo = (chain: readonly X509Certificate[], ca: X509Certificate, caName: string): void => {
  if (chain.some((c) => c.fingerprint256 === ca.fingerprint256)) return;
  const top = chain[chain.length - 1] as X509Certificate;
  if (issuedBy(top, ca)) return;
  if (top.issuer !== ca.subject) {
    throw invalid('ca', `the certificate is not issued by CA ${caName}: its issuer is "${oneLine(top.issuer)}", the CA is ${describe(ca)}`);
  }
  // Same name, other key (checkIssued also compares the key identifiers; verify the signature).
  throw invalid('ca', `the certificate names CA ${caName}'s subject ${describe(ca)} as its issuer but was signed by another key than that CA's (another CA with the same name)`);
};

const assertDates = (cert: X509Certificate, now: Date): void => {
  const from = cert.validFromDate;
  const to = cert.validToDate;
  if (now.getTime() < from.getTime()) {
    throw invalid('cert', `the certificate is not valid yet: valid from ${from.toISOString()} to ${to.toISOString()} (now ${now.toISOString()})`);
  }
  if (now.getTime() > to.getTime()) {
    throw invalid('cert', `the certificate expired on ${to.toISOString()} (valid from ${from.toISOString()}; now ${now.toISOString()})`);
  }
};

/**
 * The facts of a certificate that passed every check, or MCM_ERR_CERTIFICATE_INVALID naming the
 * first problem. `certPem` may carry the chain (leaf first); `keyPem` may be absent (a CA, or a
 * certificate only used to verify). A PEM holding both certificate and key is read as both.
 */
export const checkCertificate = (input: CheckCertificateInput): CheckedCertificate => {
  const name = assertCertificateName(input.name);
  const notes: string[] = [];
  if (typeof input.certPem !== 'string') throw invalid('cert', 'the certificate must be PEM text');
  const blocks = input.certPem.match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) {
    const hint = KEY_BLOCK.test(input.certPem) || isEncrypted(input.certPem) ? ' (it holds a private key: give that as the key, and the certificate here)' : '';
    throw invalid('cert', `no certificate found: expected a PEM block beginning with -----BEGIN CERTIFICATE-----${hint}`);
  }
  const chain = blocks.map((b, i) => parseCert(b, 'cert', blocks.length === 1 ? 'the certificate' : `certificate ${i + 1} of the ${blocks.length} given`));
  const leaf = chain[0] as X509Certificate;
  if (chain.length > 1) {
    notes.push(`${chain.length} certificates were given: the first, ${describe(leaf)}, is the one stored as ${name}; the others are kept after it as its chain`);
  }

  let keyPem = input.keyPem ?? null;
  if (keyPem === null && (KEY_BLOCK.test(input.certPem) || isEncrypted(input.certPem))) {
    keyPem = input.certPem.match(KEY_BLOCK)?.[0] ?? input.certPem;
    notes.push('the private key was read from the certificate PEM');
  }
  let key: KeyObject | null = null;
  if (keyPem !== null) {
    if (typeof keyPem !== 'string' || keyPem.trim() === '') throw invalid('key', 'the key must be PEM text');
    key = parseKey(keyPem);
    if (!leaf.checkPrivateKey(key)) {
      throw invalid('key', `the private key does not belong to the certificate ${describe(leaf)}: its public key is another one`);
    }
  }

  assertDates(leaf, input.now);
  assertChainLinks(chain);

  const caName = input.caName ?? null;
  if (caName !== null) {
    if (input.caPem === null || input.caPem === undefined) throw invalid('ca', `CA ${caName} has no stored certificate to check against`);
    const caBlock = input.caPem.match(CERT_BLOCK)?.[0];
    if (caBlock === undefined) throw invalid('ca', `the stored certificate of CA ${caName} is not PEM`);
    const ca = parseCert(caBlock, 'ca', `the certificate of CA ${caName}`);
    if (!ca.ca) throw invalid('ca', `${caName} is not a CA certificate (basicConstraints CA:FALSE)`);
    assertChainsTo(chain, ca, caName);
  }

  const validTo = leaf.validToDate.toISOString();
  return {
    name,
    fingerprint: leaf.fingerprint256,
    subject: oneLine(leaf.subject),
    issuer: oneLine(leaf.issuer),
    notBefore: leaf.validFromDate.toISOString(),
    notAfter: validTo,
    subjectAltName: leaf.subjectAltName ?? '',
    isCa: leaf.ca,
    hasKey: key !== null,
    ca: caName,
    notes,
    certPem: `${blocks.join('\n')}\n`,
    keyPem: key === null ? null : (key.export({ format: 'pem', type: 'pkcs8' }) as string),
  };
};

/** The facts alone (what the AddCertificate command carries). */
export const factsOf = (c: CheckedCertificate): CertificateFacts => ({
  name: c.name, fingerprint: c.fingerprint, subject: c.subject, issuer: c.issuer, notBefore: c.notBefore, notAfter: c.notAfter,
  subjectAltName: c.subjectAltName, isCa: c.isCa, hasKey: c.hasKey, ca: c.ca,
});
