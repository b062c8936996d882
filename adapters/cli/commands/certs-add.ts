/** `mcm certs add NAME --cert F [--key F]`: checks a certificate and stores it for the broker. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { withCertsBackend } from '../certs-backend.ts';
import { COMMON_USAGE, EXIT, parseCommandArgs, UsageError, type CliCommand, type CliIo } from '../command.ts';
import { nameArgument } from './users-args.ts';

const usage = `Usage: mcm certs add NAME --cert F [--key F] [--ca NAME] [--replace] [--json]

Checks the certificate in file F and stores it as NAME for the broker's listeners and bridges.
Refused (exit 1, MCM_ERR_CERTIFICATE_INVALID) when the key does not belong to the certificate,
has a passphrase (Mosquitto cannot be given one), the certificate has expired or is not valid
yet, or --ca is given and the certificate is not issued and signed by that stored CA. The PEM
and key go to <data_dir>/secrets/ (0600); the event log records only the facts (fingerprint,
subject, dates). A file with a chain is read leaf first. Goes through the running MCM server
when there is one, else works on the data dir.

Options:
  --cert F            PEM certificate file (optionally followed by its chain)
  --key F             PEM private key file, without a passphrase (omit for a CA certificate)
  --ca NAME           a stored CA certificate the certificate must chain to
  --replace           replace the certificate stored as NAME (else an existing NAME is refused)
  --json              print the stored certificate as JSON (the API's fields; never the key)
${COMMON_USAGE}`;

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
    const name = nameArgument(positionals, 'NAME (the certificate name)', usage);
    if (values.cert === undefined || values.cert === '') throw new UsageError('--cert F is required', usage);
    if (values.key === '') throw new UsageError('--key must not be empty (omit it for a certificate without a key)', usage);
    if (values.ca === '') throw new UsageError('--ca must not be empty', usage);
    const cert = readPem(io, '--cert', values.cert);
    const key = values.key === undefined ? null : readPem(io, '--key', values.key);
    const added = await withCertsBackend(io, values.config, (b) => b.add({
      name, cert, key, ca: values.ca ?? null, ...(values.replace ? { replace: true } : {}),
    }), { createLog: true });
    if (values.json) {
      io.stdout(`${JSON.stringify(added, null, 2)}\n`);
      return EXIT.OK;
    }
    for (const note of added.notes) io.stderr(`note: ${note}\n`);
    io.stdout(`stored certificate ${added.name} (${added.subject}; ${added.has_key ? 'with' : 'without'} key; expires ${added.not_after}, in ${added.expires_in_days} days)\nfingerprint SHA-256 ${added.fingerprint}\n`);
    return EXIT.OK;
  },
};
