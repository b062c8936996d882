/**
 * `mcm tokens` reaches API tokens the way the other data commands reach the log (DESIGN §8,
 * data-access.ts): through the API of the server that holds the data dir (as the local CLI:
 * admin, tokens owned by nobody), or with no server running on the data dir itself, through
 * adapters/tokens/token-actions.ts, the path the routes take (key from secrets/, actor `cli`).
 */
import type { Clock } from '../../core/ports.ts';
import { apiTokenKeyOf, mintApiToken } from '../http/auth/api-tokens.ts';
import { createSecretStore } from '../secrets/secret-store.ts';
import { createApiTokenUsage } from '../sqlite/api-token-usage.ts';
import { createSqliteEventStore } from '../sqlite/event-store.ts';
import { listTokens, type TokenView } from '../../projections/api-token-view.ts';
import { createToken, revokeToken, type CreatedToken } from '../tokens/token-actions.ts';
import { allPages } from './all-pages.ts';
import type { ApiClient } from './api-client.ts';
import type { CliIo } from './command.ts';
import { assertNoServer } from './server-lock.ts';
import { withDataDir } from './with-data-dir.ts';

export type NewToken = Readonly<{ name: string; role: string; expires: string | null }>;

export type TokensBackend = Readonly<{
  list(): Promise<TokenView[]>;
  create(input: NewToken): Promise<CreatedToken>;
  revoke(name: string): Promise<void>;
}>;

const httpTokens = (api: ApiClient): TokensBackend => ({
  list: () => allPages<TokenView>(api, '/tokens'),
  create: async (input) => (await api.request('POST', '/tokens', input)).body as CreatedToken,
  revoke: async (name) => {
    await api.request('DELETE', `/tokens/${encodeURIComponent(name)}`);
  },
});

const systemClock: Clock = { now: () => new Date().toISOString() };

/** Runs `fn` with the tokens of the configured data dir: the server's API when one runs, else the data dir. */
export const withTokensBackend = <T>(
  io: CliIo,
  configOption: string | undefined,
  fn: (backend: TokensBackend) => Promise<T>,
): Promise<T> => withDataDir(io, configOption, {
  server: (api) => fn(httpTokens(api)),
  direct: (db, { dataDir, user }) => {
    const store = createSqliteEventStore({ db, snapshotEvery: 0 });
    const clock = systemClock;
    const usage = createApiTokenUsage({ db });
    const secrets = createSecretStore(dataDir);
    const actor = { kind: 'cli', id: user } as const;
    return fn({
      list: async () => listTokens(store.state(), Date.parse(clock.now()), (id) => usage.lastUse(id)),
      create: async (input) => {
        assertNoServer(dataDir);
        const key = apiTokenKeyOf(secrets);
        return createToken({ store, clock, mint: () => mintApiToken(key) }, input, { actor, owner: null }).created;
      },
      revoke: async (name) => {
        assertNoServer(dataDir);
        revokeToken({ store, clock }, name, actor);
      },
    });
  },
});
