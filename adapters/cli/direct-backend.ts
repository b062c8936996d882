/**
 * The CLI on the data dir itself, when no server runs (DESIGN §8). It does what the routes do:
 * hash first (STYLE principle 3: no await between reading state and appending), then one
 * synchronous handleCommand with actor `{kind: 'cli', id: <OS user>}` — the one write path.
 */
import { randomInt } from 'node:crypto';
import { buildAclModel } from '../../core/acl-model.ts';
import type { Command } from '../../core/commands.ts';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import type { Actor } from '../../core/events.ts';
import { own } from '../../core/evolve/records.ts';
import { explain } from '../../core/explain.ts';
import { handleCommand, type CommandResult } from '../../core/handle-command.ts';
import type { Clock } from '../../core/ports.ts';
import type { MqttUser } from '../../core/state.ts';
import { aclRuleView, filterAclRules, listAclRules, listMqttUsers, mqttUserView } from '../../projections/views.ts';
import { createMosquittoHasher } from '../mosquitto/password-hash.ts';
import type { SqliteEventStore } from '../sqlite/event-store.ts';
import type { Backend } from './data-access.ts';
import { assertNoServer } from './server-lock.ts';
import { explainDynsec } from '../../projections/dynsec-explain.ts';
import { buildDynsecModel } from '../../projections/dynsec-model.ts';

/** Same shape as the API's generated passwords: URL-safe, so they survive shells and config files. */
const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
export const GENERATED_PASSWORD_LENGTH = 24;

/** 24 characters of a 64-symbol alphabet: 144 bits from the CSPRNG (randomInt is unbiased). */
export const generatePassword = (): string => {
  let out = '';
  for (let i = 0; i < GENERATED_PASSWORD_LENGTH; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return out;
};

export type DirectBackendDeps = Readonly<{
  store: SqliteEventStore;
  dataDir: string;
  /** config.mqtt.service_account.username: MCM renders it itself, so no MQTT user may take it. */
  serviceAccount: string;
  /** The enforcement backend (config mosquitto.backend): decide refuses what it cannot express. */
  backend?: 'files' | 'dynsec';
  actor: Actor;
  clock?: Clock;
}>;

const systemClock: Clock = { now: () => new Date().toISOString() };

export const createDirectBackend = (deps: DirectBackendDeps): Backend => {
  const { store, dataDir, serviceAccount, actor } = deps;
  const clock = deps.clock ?? systemClock;
  const hasher = createMosquittoHasher();
  let wrote = false;

  /** Appends through handleCommand, after checking once more that no server took the data dir. */
  const run = (command: Command): CommandResult => {
    // The lock said no server a moment ago; one starting since then would be a second writer.
    assertNoServer(dataDir);
    const result = handleCommand({ store, clock, serviceAccount, ...(deps.backend ? { backend: deps.backend } : {}) }, command, { actor });
    if (result.events.length > 0) wrote = true;
    return result;
  };

  const refuseReserved = (username: string): void => {
    if (username === serviceAccount) {
      throw new DomainError(ERROR_CODES.USERNAME_RESERVED, `"${username}" is MCM's service account and cannot be managed as an MQTT user`, [
        { field: 'username', value: username },
      ]);
    }
  };

  const userOf = (username: string): MqttUser => {
    const user = own(store.state().users, username);
    if (!user) throw new DomainError(ERROR_CODES.MQTT_USER_NOT_FOUND, `MQTT user "${username}" does not exist`, [{ username }]);
    return user;
  };

  const hash = (password: string): Promise<string> => hasher.hash(password, store.state().settings.hashIterations);

  return {
    kind: 'direct',
    target: dataDir,
    wrote: () => wrote,

    listUsers: async () => listMqttUsers(store.state()),

    createUser: async (input) => {
      refuseReserved(input.username);
      const generated = input.password === undefined ? generatePassword() : undefined;
      const passwordHash = await hash(input.password ?? (generated as string));
      run({
        type: 'CreateMqttUser',
        data: {
          username: input.username,
          passwordHash,
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.roles === undefined ? {} : { roles: [...input.roles] }),
        },
      });
      return { user: mqttUserView(userOf(input.username)), ...(generated === undefined ? {} : { password: generated }) };
    },

    changePassword: async (username, password) => {
      refuseReserved(username);
      userOf(username); // not found before spending a hash on nobody
      const generated = password === undefined ? generatePassword() : undefined;
      const passwordHash = await hash(password ?? (generated as string));
      run({ type: 'ChangeMqttUserPassword', data: { username, passwordHash } });
      return generated === undefined ? {} : { password: generated };
    },

    setDisabled: async (username, disabled) => {
      refuseReserved(username);
      run({ type: 'UpdateMqttUser', data: { username, disabled } });
      return mqttUserView(userOf(username));
    },

    deleteUser: async (username) => {
      refuseReserved(username);
      run({ type: 'DeleteMqttUser', data: { username } });
    },

    listAcls: async (filter) => {
      const all = listAclRules(store.state());
      return filter.principal === undefined ? all : filterAclRules(all, { principal: filter.principal });
    },

    addAcl: async (input) => {
      const result = run({
        type: 'AddAclRule',
        data: {
          principal: input.principal,
          topic: input.topic,
          access: input.access,
          ...(input.description === undefined ? {} : { description: input.description }),
        },
      });
      const added = result.events.find((e) => e.type === 'AclRuleAdded');
      if (!added || added.type !== 'AclRuleAdded') throw new Error('AddAclRule recorded no AclRuleAdded event');
      const rule = own(store.state().rules, String(added.data.id));
      if (!rule) throw new Error(`ACL rule ${added.data.id} is missing after it was added`);
      return aclRuleView(rule);
    },

    removeAcl: async (id) => {
      run({ type: 'RemoveAclRule', data: { id } });
    },

    explain: async (query) => {
      const state = store.state();
      // The backend's own evaluation order, as the server's /acls/explain answers (issue 15).
      if (deps.backend === 'dynsec') {
        return explainDynsec(buildDynsecModel(state, { serviceAccount, serviceAccountHash: 'set' }), state, query, { serviceAccount });
      }
      const model = buildAclModel(state, { serviceAccount, generation: state.generation });
      return explain(model, state, query, { serviceAccount });
    },
  };
};
