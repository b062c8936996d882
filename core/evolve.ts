/**
 * evolve(state, event) → state: folds one recorded event into the desired state. It MUTATES the
 * given state and returns it (core/state.ts: folding 10,000 users must not copy maps per event);
 * callers that need an old state keep a `cloneState` copy. Deterministic: same events, same state.
 */
import { BROKER_FILE_EVENTS, type DomainEvent } from './events.ts';
import { initialState, type BrokerConfig } from './state.ts';
import { evolveAclRule, evolveSchema } from './evolve/acl-rules.ts';
import { evolveAdminUser } from './evolve/admin-users.ts';
import { evolveMqttUser, evolveRole } from './evolve/mqtt-users.ts';
import { evolveWebhook } from './evolve/webhooks.ts';
import { evolveApiToken } from './evolve/api-tokens.ts';
import { noteTouches } from './evolve/touches.ts';

/** What evolve needs of a stored event; EventEnvelope satisfies it. */
export type Recorded = DomainEvent & { seq: number; at: string };

export const evolve = (state: BrokerConfig, event: Recorded): BrokerConfig => {
  const { at } = event;
  // Before folding: a changed or removed rule's principal is only known from the old state.
  noteTouches(state, event);
  switch (event.type) {
    case 'MqttUserCreated': case 'MqttUserPasswordChanged': case 'MqttUserDescribed':
    case 'MqttUserDisabled': case 'MqttUserEnabled': case 'MqttUserDeleted':
    case 'RoleGranted': case 'RoleRevoked':
      evolveMqttUser(state, event, at);
      break;
    case 'RoleDefined': case 'RoleDescribed': case 'RoleDeleted':
      evolveRole(state, event, at);
      break;
    case 'AclRuleAdded': case 'AclRuleChanged': case 'AclRuleRemoved':
      evolveAclRule(state, event, at);
      break;
    case 'SchemaAttached': case 'SchemaChanged': case 'SchemaEnabled': case 'SchemaDisabled': case 'SchemaDetached':
      evolveSchema(state, event, at);
      break;
    case 'AnonymousAccessChanged':
      state.settings.allowAnonymous = event.data.allowed;
      break;
    case 'HashIterationsChanged':
      state.settings.hashIterations = event.data.iterations;
      break;
    case 'AdminUserCreated': case 'AdminUserPasswordChanged': case 'AdminUserRoleChanged':
    case 'AdminUserDisabled': case 'AdminUserEnabled': case 'AdminUserDeleted':
    case 'MfaEnrolmentStarted': case 'MfaEnabled': case 'MfaDisabled': case 'MfaRecoveryCodeUsed':
    case 'SsoAdminUserCreated': case 'AdminUserLinked': case 'AdminUserSignedOut':
      evolveAdminUser(state, event, at);
      break;
    case 'ApiTokenCreated': case 'ApiTokenRevoked':
      evolveApiToken(state, event, at);
      break;
    case 'BrokerMessagePublished': case 'RetainedMessageCleared':
      break; // audit only: the desired state is unchanged
    case 'WebhookCreated': case 'WebhookChanged': case 'WebhookSecretRotated': case 'WebhookDeleted':
      evolveWebhook(state, event, at);
      break;
    case 'BrokerFilesAdopted': {
      const adopted = (state.adoptedFiles ??= {});
      for (const f of event.data.files) adopted[f.file] = { sha256: f.sha256, path: f.path, how: event.data.how, seq: event.seq };
      break;
    }
    case 'BrokerConfigChanged':
      state.brokerConfig = structuredClone(event.data.config);
      break;
    case 'CertificateAdded':
      (state.certificates ??= {})[event.data.name] = { ...event.data, addedAt: at };
      break;
    case 'CertificateRemoved':
      if (state.certificates) delete state.certificates[event.data.name];
      break;
    default: {
      const never: never = event;
      throw new Error(`evolve: unknown event ${JSON.stringify(never)}`);
    }
  }
  state.seq = event.seq;
  // Only events that can change password_file or acl_file move the generation (DESIGN §6).
  if (BROKER_FILE_EVENTS.has(event.type)) state.generation = event.seq;
  return state;
};

/** Folds `events` in order into `state` (a fresh initial state by default) and returns it. */
export const fold = (events: Iterable<Recorded>, state: BrokerConfig = initialState()): BrokerConfig => {
  for (const event of events) evolve(state, event);
  return state;
};
