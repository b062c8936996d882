/** `mcm certs list`: the stored TLS certificates, sorted by name, with days left and uses. */
import type { CertificateView } from '../../certs/certificate-view.ts';
import { withCertsBackend } from '../certs-backend.ts';
import { COMMON_USAGE, EXIT, parseCommandArgs, type CliCommand } from '../command.ts';
import { formatTable } from './users-args.ts';

const usage = `Usage: mcm certs list [--json]

Lists the broker's TLS certificates: name, subject, expiry (and days left), whether a private
key is stored, the CA it was checked against, and what uses it. PEMs and keys are never shown.
Goes through the running MCM server when there is one, else reads <data_dir>/mcm.db.

Options:
  --json              a JSON array of certificates (the API's fields)
${COMMON_USAGE}`;

const expiry = (c: CertificateView): string =>
  `${c.not_after.slice(0, 10)} (${c.expires_in_days < 0 ? `expired ${-c.expires_in_days}d ago` : `${c.expires_in_days}d`})`;

const text = (certs: readonly CertificateView[]): string =>
  certs.length === 0
    ? 'no certificates\n'
    : formatTable([
      ['NAME', 'SUBJECT', 'EXPIRES', 'KEY', 'CA', 'USED BY'],
      ...certs.map((c) => [c.name, c.subject, expiry(c), c.has_key ? 'yes' : 'no', c.is_ca ? '(is a CA)' : c.ca ?? '-', c.uses.length === 0 ? '-' : c.uses.join(', ')]),
    ]);

export const certsListCommand: CliCommand = {
  name: 'list',
  summary: 'list TLS certificates',
  usage,
  run: async (argv, io) => {
    const { values } = parseCommandArgs(argv, { json: { type: 'boolean' } }, usage);
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const certs = await withCertsBackend(io, values.config, (b) => b.list());
    io.stdout(values.json ? `${JSON.stringify(certs, null, 2)}\n` : text(certs));
    return EXIT.OK;
  },
};
