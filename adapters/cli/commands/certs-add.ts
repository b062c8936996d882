/** `mcm certs add [NAME] --cert F [--key F] [--ca F|NAME]`: checks a certificate and stores it for the broker. */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { withCertsBackend } from '../certs-backend.ts';
import { COMMON_USAGE, EXIT, parseCommandArgs, UsageError, type CliCommand, type CliIo } from '../command.ts';
import { nameArgument } from './users-args.ts';

const usage = `Usage: mcm certs add [NAME] --cert F [--key F] [--ca F|NAME] [--replace] [--json]

Checks the certificate in file F and stores it as NAME (default: F's file name without its
extension, e.g. broker.crt → broker) for the broker's listeners and bridges.
Refused (exit 1, MCM_ERR_CERTIFICATE_INVALID) when the key does not belong to the certificate,
has a passphrase (Mosquitto cannot be given one), the certificate has expired or is not valid
yet, or --ca is given and the certificate is not issued and signed by that stored CA. The PEM
and key go to <data_dir>/secrets/ (0600); the event log records only the facts (fingerprint,
subject, dates). A file with a chain is read leaf first. Goes through the running MCM server
when there is one, else works on the data dir.

Options:
  --cert F            PEM certificate file (optionally followed by its chain)
  --key F             PEM private key file, without a passphrase (omit for a CA certificate)
  --ca F|NAME         the CA the certificate must chain to: a PEM file (stored too, named
                      after the file, unless a stored certificate is that CA) or a stored name
  --replace           replace the certificate stored as NAME (else an existing NAME is refused)
  --json              print the stored certificate as JSON (the API's fields; never the key)
${COMMON_USAGE}`;

const isFile = (path: string): boolean => {
  try { return statSync(path).isFile(); } catch { return false; }
};

/** A certificate name from a file name: `Plant CA.pem` → `plant-ca`. */
const nameFromFile = (file: string, usageText: string): string => {
  const name = basename(file).replace(/\.(crt|pem|cer|der|ca)$/i, '').toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64);
  if (name === '') throw new UsageError(`cannot name a certificate after ${JSON.stringify(file)}: give NAME`, usageText);
  return name;
};

/** Certificates and keys are small; a file much larger than this is the wrong file. */
const MAX_FILE_BYTES = 128 * 1024;

const readPem = (io: CliIo, option: string, file: string): string => {
  const path = resolve(io.cwd, file);
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    throw new DomainError(ERROR_CODES.VALIDATION, `cannot read ${option} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, [{ field: option.slice(2), path }]);
  }
  if (data.length > MAX_FILE_BYTES) {
    throw new DomainError(ERROR_CODES.VALIDATION, `${option} ${path} is larger than ${MAX_FILE_BYTES / 1024} KiB: not a PEM certificate or key`, [{ field: option.slice(2), path }]);
  }
  return data.toString('utf8');
};

export const certsAddCommand: CliCommand = {
  name: 'add',
  summary: 'check and store a TLS certificate (and its key)',
  usage,
  run: async (argv, io) => {
    const { values, positionals } = parseCommandArgs(argv, {
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      replace: { type: 'boolean' },
      json: { type: 'boolean' },
    }, usage, { max: 1 });
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    if (values.cert === undefined || values.cert === '') throw new UsageError('--cert F is required', usage);
    const name = positionals.length > 0 ? nameArgument(positionals, 'NAME (the certificate name)', usage) : nameFromFile(values.cert, usage);
    if (values.key === '') throw new UsageError('--key must not be empty (omit it for a certificate without a key)', usage);
    if (values.ca === '') throw new UsageError('--ca must not be empty', usage);
    const cert = readPem(io, '--cert', values.cert);
    const key = values.key === undefined ? null : readPem(io, '--key', values.key);
    const caFile = values.ca !== undefined && isFile(resolve(io.cwd, values.ca)) ? values.ca : null;
    const caPem = caFile === null ? null : readPem(io, '--ca', caFile);
    const added = await withCertsBackend(io, values.config, async (b) => {
      let ca = values.ca ?? null;
      if (caFile !== null && caPem !== null) {
        // A CA given as a file: the stored certificate that is this CA, else store it first.
        const fingerprint = new X509Certificate(caPem).fingerprint256;
        const stored = (await b.list()).find((c) => c.fingerprint === fingerprint);
        ca = stored?.name ?? (await b.add({ name: nameFromFile(caFile, usage), cert: caPem, key: null, ca: null })).name;
        if (!stored) io.stderr(`note: stored the CA from ${caFile} as ${ca}\n`);
      }
      return b.add({ name, cert, key, ca, ...(values.replace ? { replace: true } : {}) });
    }, { createLog: true });
    if (values.json) {
      io.stdout(`${JSON.stringify(added, null, 2)}\n`);
      return EXIT.OK;
    }
    for (const note of added.notes) io.stderr(`note: ${note}\n`);
    io.stdout(`stored certificate ${added.name} (${added.subject}; ${added.has_key ? 'with' : 'without'} key; expires ${added.not_after}, in ${added.expires_in_days} days)\nfingerprint SHA-256 ${added.fingerprint}\n`);
    return EXIT.OK;
  },
};
