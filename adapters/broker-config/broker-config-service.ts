/**
 * The broker configuration as the API and the CLI handle it (issue 13): preview (diff of the
 * rendered mosquitto.conf, the changes, whether they restart the broker and how many clients that
 * drops) and the confirmed change through handleCommand. A change that restarts the broker needs
 * `If-Match` with the seq its preview returned; a reload-only change does not.
 * Bridge passwords never appear: the rendered file shown has `********` in their place.
 */
import type { Command } from '../../core/commands.ts';
import { DomainError, ERROR_CODES } from '../../core/errors.ts';
import { handleCommand, type CommandContext, type CommandResult } from '../../core/handle-command.ts';
import type { Clock, EventStore } from '../../core/ports.ts';
import type { BrokerConfig } from '../../core/state.ts';
import { configChanges, needsRestart, type ConfigChange } from '../../core/broker-config/changes.ts';
import { emptyBrokerConfig, type BrokerConfigModel } from '../../core/broker-config/model.ts';
import { decide } from '../../core/decide.ts';
import type { BrokerConfigContext } from '../../core/decide/broker-config.ts';
import { unifiedDiff } from '../../projections/text-diff.ts';

export type BrokerConfigPort = Readonly<{
  /** The mosquitto.conf MCM would write for this configuration, bridge passwords redacted; null in external mode. */
  render(config: BrokerConfigModel, allowAnonymous: boolean): string | null;
  context(): BrokerConfigContext;
  /** MQTT clients connected now (the observer's table), null while unknown. */
  connectedClients(): number | null;
  /** Stores a bridge's remote password in secrets/ and returns its reference (adapters/secrets/bridge-passwords.ts). */
  storeBridgePassword(password: string): string;
  /** Whether the password behind `ref` is `password` (an unchanged password keeps its reference: no restart). */
  bridgePasswordIs(ref: string, password: string): boolean;
  /** Whether secrets/ holds this bridge password reference (a GitOps bundle names references only). */
  hasBridgePassword(ref: string): boolean;
}>;

export type BrokerConfigPreview = {
  seq: number;
  changes: ConfigChange[];
  restart_needed: boolean;
  clients_connected: number | null;
  /** Clients a restart would disconnect (they reconnect on their own); 0 for a reload. */
  clients_dropped: number | null;
  diff: string;
  rendered: string;
  config: BrokerConfigModel;
};

type Deps = Readonly<{ store: EventStore; clock: Clock; serviceAccount: string; brokerConfig?: BrokerConfigPort | null }>;

const port = (deps: Deps): BrokerConfigPort => {
  if (!deps.brokerConfig) {
    throw new DomainError(ERROR_CODES.BROKER_CONFIG_UNMANAGED,
      "MCM does not write this broker's mosquitto.conf (mosquitto.mode external): manage listeners, TLS and bridges in the broker's own configuration, or run the broker supervised", []);
  }
  return deps.brokerConfig;
};

/** What the command would make the configuration, decided on the current state without appending. */
const nextConfig = (command: Command, state: BrokerConfig, ctx: BrokerConfigContext, serviceAccount: string): BrokerConfigModel => {
  const events = decide(command, state, { serviceAccount, broker: ctx });
  const changed = events.find((e) => e.type === 'BrokerConfigChanged');
  return changed?.type === 'BrokerConfigChanged' ? changed.data.config : state.brokerConfig ?? emptyBrokerConfig();
};

export const previewBrokerCommand = (deps: Deps, command: Command): BrokerConfigPreview => {
  const p = port(deps);
  const state = deps.store.state();
  const current = state.brokerConfig ?? emptyBrokerConfig();
  const next = nextConfig(command, state, p.context(), deps.serviceAccount);
  const changes = configChanges(current, next);
  const restart = needsRestart(changes);
  const before = p.render(current, state.settings.allowAnonymous) ?? '';
  const after = p.render(next, state.settings.allowAnonymous) ?? '';
  const clients = p.connectedClients();
  return {
    seq: state.seq, changes, restart_needed: restart, clients_connected: clients,
    clients_dropped: restart ? clients : 0,
    diff: unifiedDiff(before, after, { a: 'mosquitto.conf (now)', b: 'mosquitto.conf (after)' }),
    rendered: after, config: next,
  };
};

/**
 * Appends the change. A restart without the preview's seq in If-Match is refused (428) with the
 * preview in the details, so a script sees what it would have done.
 */
export const applyBrokerCommand = (deps: Deps, command: Command, ctx: CommandContext): CommandResult & { restart_needed: boolean } => {
  const preview = previewBrokerCommand(deps, command);
  if (preview.restart_needed && ctx.expectedSeq === undefined) {
    throw new DomainError(ERROR_CODES.RESTART_NOT_CONFIRMED,
      `this change restarts the broker (${preview.changes.filter((c) => c.apply === 'restart').map((c) => c.what).join(', ')})` +
      `${preview.clients_dropped ? `, dropping ${preview.clients_dropped} connected client${preview.clients_dropped === 1 ? '' : 's'}` : ''}: ` +
      `preview it (POST /api/v1/broker/config/preview or mcm broker plan) and confirm with If-Match: "${preview.seq}"`,
      [{ seq: preview.seq, restart_needed: true, changes: preview.changes, clients_dropped: preview.clients_dropped }]);
  }
  const result = handleCommand({ store: deps.store, clock: deps.clock, serviceAccount: deps.serviceAccount, broker: port(deps).context() }, command, ctx);
  return { ...result, restart_needed: preview.restart_needed };
};
