/**
 * The one way a certificate enters or leaves MCM (HTTP, CLI, later import): check the PEM and
 * key (check-certificate.ts), store them in `secrets/` (cert-store.ts), and record the facts
 * with the same handleCommand every other change goes through.
 *
 * Order, adding: check → a dry run of decide on the current state (exists, CA not stored, a
 * replacement that no longer fits where the old one is used: refused before any file is
 * touched) → write the PEM and key → handleCommand. The files go first because the apply loop
 * may render mosquitto.conf right after the append and must find them; if the append is refused
 * after all (another writer got there first), the previous files are put back.
 * Removing: the command first (a certificate in use is refused and keeps its files), then the files.
 */
import type { Certificate } from '../../core/broker-config/model.ts';
import type { Command } from '../../core/commands.ts';
import { decide } from '../../core/decide.ts';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import { own } from '../../core/evolve/records.ts';
import { handleCommand, type CommandContext, type CommandResult } from '../../core/handle-command.ts';
import type { Clock, EventStore } from '../../core/ports.ts';
import type { CertStore } from './cert-store.ts';
import { checkCertificate, factsOf } from './check-certificate.ts';

export type CertificateDeps = Readonly<{
  store: EventStore;
  clock: Clock;
  certs: CertStore;
  serviceAccount?: string;
}>;

export type AddCertificateInput = Readonly<{
  name: string;
  /** PEM: the certificate, optionally followed by its chain. */
  cert: string;
  /** PEM private key (no passphrase), or null/absent for a certificate used only to verify (a CA). */
  key?: string | null;
  /** Name of a stored CA certificate the certificate must chain to. */
  ca?: string | null;
  /** Replace the certificate of an existing name (refused without it: MCM_ERR_CERTIFICATE_EXISTS). */
  replace?: boolean;
}>;

export type AddCertificateResult = Readonly<{
  certificate: Certificate;
  seq: number;
  /** False when the same certificate was already stored under that name (nothing appended). */
  changed: boolean;
  notes: readonly string[];
}>;

const handlerDeps = (deps: CertificateDeps) => (deps.serviceAccount === undefined
  ? { store: deps.store, clock: deps.clock }
  : { store: deps.store, clock: deps.clock, serviceAccount: deps.serviceAccount });

export const addCertificate = (deps: CertificateDeps, input: AddCertificateInput, ctx: CommandContext): AddCertificateResult => {
  const caName = input.ca ?? null;
  let caPem: string | null = null;
  if (caName !== null) {
    if (!own(deps.store.state().certificates ?? {}, caName)) {
      throw new DomainError(ERROR_CODES.CERTIFICATE_INVALID, `CA ${JSON.stringify(caName)} is not a stored certificate (add it first, without a key)`, [{ field: 'ca', value: caName }]);
    }
    caPem = deps.certs.read(caName)?.cert ?? null;
  }
  const checked = checkCertificate({ name: input.name, certPem: input.cert, keyPem: input.key ?? null, caPem, caName, now: new Date(deps.clock.now()) });
  const command: Command = { type: 'AddCertificate', data: { ...factsOf(checked), ...(input.replace === true ? { replace: true } : {}) } };
  // Refusals that don't depend on a race are found before a file is written.
  decide(command, deps.store.state(), deps.serviceAccount === undefined ? {} : { serviceAccount: deps.serviceAccount });

  const previous = deps.certs.read(checked.name);
  deps.certs.write(checked.name, checked.certPem, checked.keyPem);
  let result: CommandResult;
  try {
    result = handleCommand(handlerDeps(deps), command, ctx);
  } catch (e) {
    if (previous === null) deps.certs.remove(checked.name);
    else deps.certs.write(checked.name, previous.cert, previous.key);
    throw e;
  }
  const certificate = own(deps.store.state().certificates ?? {}, checked.name);
  if (!certificate) throw new Error(`certificate ${checked.name} is missing after it was added`);
  return { certificate, seq: result.seq, changed: result.events.length > 0, notes: checked.notes };
};

export const removeCertificate = (deps: CertificateDeps, name: string, ctx: CommandContext): CommandResult => {
  const result = handleCommand(handlerDeps(deps), { type: 'RemoveCertificate', data: { name } }, ctx);
  deps.certs.remove(name);
  return result;
};
