/** `mcm certs remove NAME`: forgets a certificate and deletes its PEM and key. */
import { withCertsBackend } from '../certs-backend.ts';
import { COMMON_USAGE, EXIT, parseCommandArgs, type CliCommand } from '../command.ts';
import { nameArgument } from './users-args.ts';

const usage = `Usage: mcm certs remove NAME

Removes the certificate NAME and deletes its PEM and key from <data_dir>/secrets/. Refused
(exit 1, MCM_ERR_CERTIFICATE_IN_USE) while a listener or bridge uses it, or another stored
certificate names it as its CA. Goes through the running MCM server when there is one, else
works on the data dir.
${COMMON_USAGE}`;

export const certsRemoveCommand: CliCommand = {
  name: 'remove',
  summary: 'remove a TLS certificate that nothing uses',
  usage,
  run: async (argv, io) => {
    const { values, positionals } = parseCommandArgs(argv, {}, usage, { max: 1 });
    if (values.help) {
      io.stdout(usage);
      return EXIT.OK;
    }
    const name = nameArgument(positionals, 'NAME (the certificate name)', usage);
    await withCertsBackend(io, values.config, (b) => b.remove(name));
    io.stdout(`removed certificate ${name}\n`);
    return EXIT.OK;
  },
};
