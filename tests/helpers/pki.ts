/**
 * A test PKI made with the `openssl` binary: a CA, server and client certificates signed by it,
 * with chosen validity dates (expired, not yet valid) — `openssl ca` takes -startdate/-enddate,
 * which `openssl x509 -req` in OpenSSL 3.0 does not. EC P-256 keys (fast to make; Mosquitto and
 * Node read them), PKCS#8 PEM without a passphrase.
 *
 *   const ca = makeCa(dir, 'Test CA');
 *   const server = makeCert(dir, { ca, cn: 'localhost' });              // SANs DNS:localhost, IP:127.0.0.1
 *   const client = makeCert(dir, { ca, cn: 'sensor-1', client: true });
 *   const expired = makeCert(dir, { ca, cn: 'old', notBefore: '2020-01-01T00:00:00Z', notAfter: '2020-01-02T00:00:00Z' });
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type PkiFiles = Readonly<{
  cn: string;
  /** Path of the certificate (PEM). */
  cert: string;
  /** Path of the private key (PKCS#8 PEM, no passphrase). */
  key: string;
  certPem: string;
  keyPem: string;
}>;

export type CertOptions = Readonly<{
  /** The signing CA; null: self-signed. */
  ca: PkiFiles | null;
  cn: string;
  /** subjectAltName entries (`DNS:x`, `IP:1.2.3.4`); default `DNS:localhost,IP:127.0.0.1` for a server, none for a client; [] for none. */
  sans?: readonly string[];
  /** Validity from now (default 365); ignored when notAfter is given. */
  days?: number;
  /** ISO-8601 instant or Date (default: now). */
  notBefore?: string | Date;
  notAfter?: string | Date;
  /** extendedKeyUsage clientAuth instead of serverAuth. */
  client?: boolean;
  /** A CA certificate (basicConstraints CA:TRUE, keyCertSign): an intermediate when `ca` is set. */
  isCa?: boolean;
}>;

const openssl = (args: readonly string[], cwd: string): void => {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString().trim() || err.message}`);
  }
};

/** `YYYYMMDDHHMMSSZ` (ASN.1 GeneralizedTime, as `openssl ca -startdate` takes it). */
const asn1Time = (at: string | Date): string => {
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) throw new Error(`invalid date ${String(at)}`);
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z');
};

/** A file name not yet used in `dir`, from the CN. */
const baseName = (dir: string, cn: string): string => {
  const slug = cn.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'cert';
  let name = slug;
  for (let i = 2; existsSync(join(dir, `${name}.crt`)) || existsSync(join(dir, `${name}.key`)); i++) name = `${slug}-${i}`;
  return name;
};

const extensions = (o: CertOptions): string => {
  if (o.isCa) {
    return [
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign, digitalSignature',
      'subjectKeyIdentifier = hash',
      ...(o.ca ? ['authorityKeyIdentifier = keyid'] : []),
    ].join('\n');
  }
  const sans = o.sans ?? (o.client ? [] : ['DNS:localhost', 'IP:127.0.0.1']);
  return [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature, keyEncipherment',
    `extendedKeyUsage = ${o.client ? 'clientAuth' : 'serverAuth'}`,
    'subjectKeyIdentifier = hash',
    ...(o.ca ? ['authorityKeyIdentifier = keyid'] : []),
    ...(sans.length > 0 ? [`subjectAltName = ${sans.join(', ')}`] : []),
  ].join('\n');
};

/**
 * A key and a certificate for `o.cn` in `dir` (`<cn>.crt`, `<cn>.key`), signed by `o.ca` (or by
 * itself) with `openssl ca`, so any validity window can be given.
 */
export const makeCert = (dir: string, o: CertOptions): PkiFiles => {
  mkdirSync(dir, { recursive: true });
  const name = baseName(dir, o.cn);
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const work = mkdtempSync(join(dir, '.openssl-'));
  try {
    const csr = join(work, 'req.csr');
    const subject = `/CN=${o.cn.replace(/[/\\]/g, (c) => `\\${c}`)}`;
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', subject], work);
    writeFileSync(join(work, 'index.txt'), '');
    writeFileSync(join(work, 'ext.cnf'), `${extensions(o)}\n`);
    // A minimal `openssl ca` setup per call: its own database, so calls never share state.
    writeFileSync(join(work, 'ca.cnf'), [
      '[ ca ]', 'default_ca = test_ca', '',
      '[ test_ca ]',
      `database = ${join(work, 'index.txt')}`,
      `new_certs_dir = ${work}`,
      `serial = ${join(work, 'serial')}`,
      'default_md = sha256', 'policy = policy_any', 'unique_subject = no', 'email_in_dn = no', 'copy_extensions = none', '',
      '[ policy_any ]', 'commonName = supplied', '',
    ].join('\n'));
    const signer = o.ca ? ['-cert', o.ca.cert, '-keyfile', o.ca.key] : ['-selfsign', '-keyfile', key];
    const notBefore = o.notBefore === undefined ? new Date(Date.now() - 60_000) : o.notBefore;
    const validity = o.notAfter === undefined ? ['-days', String(o.days ?? 365)] : ['-enddate', asn1Time(o.notAfter)];
    openssl([
      'ca', '-batch', '-notext', '-rand_serial', '-config', join(work, 'ca.cnf'), ...signer,
      '-startdate', asn1Time(notBefore), ...validity,
      '-extfile', join(work, 'ext.cnf'), '-in', csr, '-out', cert,
    ], work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { cn: o.cn, cert, key, certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
};

/** A self-signed root CA valid for ten years (or the window given). */
export const makeCa = (dir: string, cn = 'MCM Test CA', o: Omit<CertOptions, 'ca' | 'cn' | 'isCa' | 'client' | 'sans'> = {}): PkiFiles =>
  makeCert(dir, { days: 3650, ...o, ca: null, cn, isCa: true });

/** `keyPem` encrypted with `passphrase` (AES-256, PKCS#8 `ENCRYPTED PRIVATE KEY`). */
export const encryptKey = (dir: string, keyPem: string, passphrase = 'secret-passphrase'): string => {
  const work = mkdtempSync(join(dir, '.openssl-'));
  try {
    writeFileSync(join(work, 'in.key'), keyPem, { mode: 0o600 });
    openssl(['pkey', '-in', 'in.key', '-aes256', '-passout', `pass:${passphrase}`, '-out', 'out.key'], work);
    return readFileSync(join(work, 'out.key'), 'utf8');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
};
