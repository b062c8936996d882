/**
 * `mcm certs` reaches certificates the way the other data commands reach the log (DESIGN §8,
 * data-access.ts): through the API of the server that holds the data dir, or — with no server
 * running — on the data dir itself, through adapters/certs/add-certificate.ts, the same path the
 * route takes (check, store the PEM and key in secrets/, handleCommand with actor `cli`).
 */
import type { Clock } from '../../core/ports.ts';
import { addCertificate, removeCertificate, type AddCertificateInput } from '../certs/add-certificate.ts';
import { createCertStore } from '../certs/cert-store.ts';
import { certificateView, listCertificates, type CertificateView } from '../certs/certificate-view.ts';
import { createSecretStore } from '../secrets/secret-store.ts';
import { createSqliteEventStore } from '../sqlite/event-store.ts';
import { allPages } from './all-pages.ts';
import type { ApiClient } from './api-client.ts';
import type { CliIo } from './command.ts';
import { assertNoServer } from './server-lock.ts';
import { withDataDir } from './with-data-dir.ts';

export type AddedCertificateView = CertificateView & { notes: string[] };

export type CertsBackend = Readonly<{
  kind: 'server' | 'direct';
  list(): Promise<CertificateView[]>;
  add(input: AddCertificateInput): Promise<AddedCertificateView>;
  remove(name: string): Promise<void>;
}>;

const httpCerts = (api: ApiClient): CertsBackend => ({
  kind: 'server',
  list: () => allPages<CertificateView>(api, '/certificates'),
  add: async (input) => (await api.request('POST', '/certificates', {
    name: input.name,
    cert: input.cert,
    ...(input.key ? { key: input.key } : {}),
    ...(input.ca ? { ca: input.ca } : {}),
    ...(input.replace ? { replace: true } : {}),
  })).body as AddedCertificateView,
  remove: async (name) => {
    await api.request('DELETE', `/certificates/${encodeURIComponent(name)}`);
  },
});

const systemClock: Clock = { now: () => new Date().toISOString() };

/**
 * Runs `fn` with the certificates of the configured data dir: the server's API when a live
 * server holds it, else the data dir (a missing event log is refused unless `createLog`).
 */
export const withCertsBackend = <T>(
  io: CliIo,
  configOption: string | undefined,
  fn: (backend: CertsBackend) => Promise<T>,
  opts: Readonly<{ createLog?: boolean; clock?: Clock }> = {},
): Promise<T> => withDataDir(io, configOption, {
  server: (api) => fn(httpCerts(api)),
  direct: async (db, { config, dataDir, user }) => {
    const store = createSqliteEventStore({ db, snapshotEvery: 0 });
    const clock = opts.clock ?? systemClock;
    const deps = { store, clock, certs: createCertStore(createSecretStore(dataDir)), serviceAccount: config.mqtt.service_account.username };
    const actor = { kind: 'cli', id: user } as const;
    let wrote = false;
    const result = await fn({
      kind: 'direct',
      list: async () => listCertificates(store.state(), new Date(clock.now())),
      add: async (input) => {
        assertNoServer(dataDir);
        const added = addCertificate(deps, input, { actor });
        wrote ||= added.changed;
        return { ...certificateView(store.state(), added.certificate, new Date(clock.now())), notes: [...added.notes] };
      },
      remove: async (name) => {
        assertNoServer(dataDir);
        removeCertificate(deps, name, { actor });
        wrote = true;
      },
    });
    if (wrote) {
      io.stderr(`note: no MCM server is running on ${dataDir}: the change is in the event log; the broker's files are rendered and the broker reloaded when the server starts\n`);
    }
    return result;
  },
}, opts);
