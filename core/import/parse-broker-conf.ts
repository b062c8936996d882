/**
 * Reads a mosquitto.conf into MCM's broker configuration (issue "Broker configuration as events":
 * "Importing a mosquitto.conf with listeners, TLS and a bridge, then rendering it, gives a broker
 * that behaves the same"). Lines are read as the broker reads them (src/conf.c,
 * config__read_file_core; reference §7): `#` only in column 1 is a comment, the directive is the
 * first word split on spaces (a tab or an indented `#` is a directive the broker refuses), a
 * number is C `atoi` of the next word, a path or name is the rest of the line with blanks trimmed.
 *
 * Scopes as the broker keeps them: a listener-scoped line applies to the last `listener` of the
 * same file, or, when there is none, to the default listener (port 1883 on every interface, or
 * `port`/`bind_address`); a bridge-scoped line to the last `connection` of the same file. Each
 * `include_dir` file is read where the `include_dir` line stands, from a fresh scope (the adapter
 * lists and reads them: `included`). Global options keep the last value.
 *
 * What MCM renders itself (catalog MCM_OWNED) is left to MCM, with a warning where it changes
 * something the operator relies on; password_file, acl_file and allow_anonymous are read by
 * parse-mosquitto-conf.ts. Other global lines are kept verbatim (passthrough); unmanaged listener-
 * or bridge-scoped lines cannot be moved to the end of the file and refuse the import, unless they
 * only restate the broker's default. Pure: no I/O, paths are returned as written.
 */
import { GLOBAL_DIRECTIVES, LOG_TYPES, MCM_OWNED, REQUIRED_LOG_TYPES } from '../broker-config/catalog.ts';
import type { BrokerConfigModel, OptionValue } from '../broker-config/model.ts';
import {
  BRIDGE_ALIASES, isDefaultValue, PER_LISTENER_SECURITY_DIRECTIVES, UNMANAGED_BRIDGE_DIRECTIVES, UNMANAGED_GLOBAL_DIRECTIVES,
  UNMANAGED_LISTENER_DIRECTIVES,
} from './conf-directives.ts';
import {
  bridgesOf, createCertificateNamer, listenersOf, newBridge, newListener, reportTo,
  type BridgeDraft, type BridgePassword, type ConfCertificate, type ConfOrigin, type ListenerDraft,
} from './conf-drafts.ts';
import { bridgeLine, listenerLine } from './conf-lines.ts';
import { atoi, boolOf, readOption } from './conf-options.ts';
import type { ImportProblem, ImportWarning } from './import-types.ts';
import { restOfLine, spaceToken, splitLines, trimC } from './lines.ts';

export type { BridgePassword, ConfCertificate, ConfOrigin } from './conf-drafts.ts';

export type ConfText = Readonly<{ path: string; text: string }>;

export type ParseBrokerConfOptions = Readonly<{
  /** The `.conf` files of each `include_dir`, by the directory as the conf writes it, in the broker's order. */
  included?: ReadonlyMap<string, readonly ConfText[]>;
  /** What MCM renders itself, to warn where the conf differs (null/absent: the broker's default). */
  owned?: Readonly<{ user?: string | null; persistenceLocation?: string | null }>;
}>;

export type ParsedBrokerConf = {
  /** The configuration for validateBrokerConfig; bridge passwords are in `bridgePasswords` (remotePasswordRef null). */
  config: BrokerConfigModel;
  files: { certificates: ConfCertificate[] };
  bridgePasswords: BridgePassword[];
  /** Where each listener, bridge, option and passthrough line came from: validation problems get a line. */
  origins: { listeners: ConfOrigin[]; bridges: ConfOrigin[]; options: Record<string, ConfOrigin>; passthrough: ConfOrigin[] };
  /** Directories `include_dir` names (as written), in order. */
  includeDirs: string[];
  warnings: ImportWarning[];
  problems: ImportProblem[];
};

const CATALOG = new Set(GLOBAL_DIRECTIVES.map((d) => d.name));
const LISTENER_MANAGED = new Set(['bind_interface', 'protocol', 'max_connections', 'certfile', 'keyfile', 'cafile', 'tls_version', 'require_certificate', 'use_identity_as_username']);
const BRIDGE_MANAGED = new Set(['address', 'remote_username', 'remote_password', 'remote_clientid', 'bridge_cafile', 'bridge_certfile', 'bridge_keyfile', 'bridge_tls_version', 'topic', 'cleansession', 'keepalive_interval']);
/** Read by parse-mosquitto-conf.ts (the users and rules import), or part of a plugin block. */
const SECURITY_READ_ELSEWHERE = new Set(['allow_anonymous', 'password_file', 'acl_file', 'auth_plugin_deny_special_chars']);
const FILE_PLUGINS = ['mosquitto_password_file.so', 'mosquitto_acl_file.so'];
/** A word the broker can match to a directive: anything else (a tab, an indented `#`, a BOM) stops it. */
const DIRECTIVE_WORD = /^[A-Za-z0-9_.]+$/;

export const parseBrokerConf = (text: string, opts: ParseBrokerConfOptions = {}): ParsedBrokerConf => {
  const problems: ImportProblem[] = [];
  const warnings: ImportWarning[] = [];
  const r = reportTo(problems, warnings);
  const listeners: ListenerDraft[] = [];
  const bridges: BridgeDraft[] = [];
  const options: Record<string, OptionValue> = {};
  const optionOrigins: Record<string, ConfOrigin> = {};
  const passthrough: string[] = [];
  const passthroughOrigins: ConfOrigin[] = [];
  const includeDirs: string[] = [];
  // Set while reading (closures below): a holder, so the type checker does not narrow them to null.
  const st: {
    logTypes: Set<string> | null; logTypeOrigin: ConfOrigin; defaultListener: ListenerDraft | null; perListener: boolean;
    persistenceLocation: { value: string; origin: ConfOrigin } | null;
  } = { logTypes: null, logTypeOrigin: { line: 0, source: null }, defaultListener: null, perListener: false, persistenceLocation: null };

  const defaultOf = (origin: ConfOrigin): ListenerDraft => {
    st.defaultListener ??= newListener(0, null, origin, true);
    return st.defaultListener;
  };

  const readFile = (fileText: string, source: string | null, level: number): void => {
    // Per file (conf.c locals): lines before a `listener` go to the default listener, and bridge
    // lines need a `connection` of this file.
    let listener: ListenerDraft | null = null;
    let bridge: BridgeDraft | null = null;
    splitLines(fileText).forEach((raw, i) => {
      if (raw === '' || raw.startsWith('#') || raw.startsWith('\r')) return;
      const line = raw.replace(/[\r\n]+$/, '');
      const first = spaceToken(line, 0);
      if (first === null) return;
      const origin: ConfOrigin = { line: i + 1, source };
      const raw0 = first.token;
      const word = BRIDGE_ALIASES[raw0] ?? (raw0 === 'retained_persistence' ? 'persistence' : raw0);
      const second = spaceToken(line, first.next);
      const token = second?.token ?? null;
      const rest = trimC(restOfLine(line, first.next) ?? '');
      const current = (): ListenerDraft => listener ?? defaultOf(origin);
      const label = (): string => (listener === null ? 'the default listener' : `listener ${listener.port}`);

      if (!DIRECTIVE_WORD.test(raw0)) {
        r.problem(origin, raw0.startsWith('#')
          ? 'a comment must start in column 1: the broker reads an indented # as an unknown directive and refuses the file [ref §7]'
          : `${JSON.stringify(raw0)} is not a directive the broker can read (a tab, a byte order mark or another blank before it?): it refuses the file`);
        return;
      }
      if (word === 'listener') {
        const port = token === null ? 0 : atoi(token);
        const hostToken = second === null ? null : spaceToken(line, second.next)?.token ?? null;
        const host = hostToken === null || hostToken.startsWith('#') ? null : hostToken;
        if (port === 0 && host !== null) return r.problem(origin, `listener 0 ${host} is a unix socket listener, which MCM does not manage`);
        if (port < 1 || port > 65_535) return r.problem(origin, `invalid listener port ${JSON.stringify(token ?? '')}: a TCP port is 1–65535`);
        listener = newListener(port, host, origin, false);
        listeners.push(listener);
        return;
      }
      if (word === 'port' || word === 'bind_address') {
        const d = defaultOf(origin);
        if (word === 'bind_address') { d.host = rest === '' ? null : rest; return; }
        const port = token === null ? 0 : atoi(token);
        if (port < 1 || port > 65_535) return r.problem(origin, `invalid port ${JSON.stringify(token ?? '')}: a TCP port is 1–65535`);
        d.port = port;
        return;
      }
      if (LISTENER_MANAGED.has(word)) return listenerLine(r, word, current(), label(), token, rest, origin);
      if (word === 'connection') {
        if (token === null) return r.problem(origin, 'connection without a bridge name');
        if (bridges.some((b) => b.name === token)) return r.problem(origin, `a second bridge named ${JSON.stringify(token)} (the broker refuses duplicate names)`);
        bridge = newBridge(token, origin);
        bridges.push(bridge);
        return;
      }
      if (BRIDGE_MANAGED.has(word) || UNMANAGED_BRIDGE_DIRECTIVES.has(word)) {
        if (bridge === null) return r.problem(origin, `${raw0} outside a bridge: it must follow a connection line of the same file (the broker refuses it)`);
        if (BRIDGE_MANAGED.has(word)) return bridgeLine(r, word, bridge, line, first.next, token, rest, origin);
        if (isDefaultValue(word, token)) return r.warn(origin, 'default_dropped', `${raw0} ${token ?? ''} on bridge ${bridge.name} is the broker's default: left out`);
        return r.problem(origin, `${raw0} on bridge ${bridge.name} is not managed by MCM (only the lines MCM manages can be imported for a bridge)`);
      }
      if (UNMANAGED_LISTENER_DIRECTIVES.has(word) || (st.perListener && PER_LISTENER_SECURITY_DIRECTIVES.has(word))) {
        if (isDefaultValue(word, token)) return r.warn(origin, 'default_dropped', `${raw0} ${token ?? ''} on ${label()} is the broker's default: left out`);
        return r.problem(origin, `${raw0} on ${label()} is not managed by MCM (a listener line cannot be kept: at the end of the file it would apply to another listener)`);
      }
      if (word === 'log_type') return logTypeLine(token, origin);
      if (CATALOG.has(word)) {
        const read = readOption(word, token, raw0);
        if (read.problem !== undefined) return r.problem(origin, read.problem);
        if (read.warning !== undefined) r.warn(origin, read.warning.code, read.warning.message);
        if (read.value !== undefined) { options[word] = read.value; optionOrigins[word] = origin; }
        return;
      }
      if (word === 'include_dir') {
        // conf.c: only the main file's include_dir is followed; an included file's is ignored.
        if (level > 0 || rest === '') return;
        includeDirs.push(rest);
        for (const f of opts.included?.get(rest) ?? []) readFile(f.text, f.path, level + 1);
        return;
      }
      if (MCM_OWNED.has(word) || SECURITY_READ_ELSEWHERE.has(word) || word.startsWith('plugin_opt_') || word.startsWith('auth_opt_')) {
        return ownedLine(word, token, rest, origin);
      }
      passthrough.push(line);
      passthroughOrigins.push(origin);
      r.warn(origin, 'passthrough', UNMANAGED_GLOBAL_DIRECTIVES.has(word)
        ? `kept verbatim at the end of mosquitto.conf (not managed by MCM): ${line}`
        : `${raw0} is not a Mosquitto 2.0/2.1 directive MCM knows: kept verbatim at the end of mosquitto.conf (a broker that does not know it refuses to start): ${line}`);
    });
  };

  /** log_type lines add up over every file (conf.c config_recurse); `none` clears, `all` sets every type. */
  const logTypeLine = (token: string | null, origin: ConfOrigin): void => {
    if (token === null) return; // the broker logs "Empty log_type value" and goes on
    const logTypes = (st.logTypes ??= new Set());
    st.logTypeOrigin = origin;
    if (token === 'none') { logTypes.clear(); return; }
    if (token === 'all') {
      for (const t of LOG_TYPES) logTypes.add(t);
      r.warn(origin, 'log_type_dropped', 'log_type all: MCM keeps error, warning, notice, information and websockets; debug, subscribe, unsubscribe and internal are left out (subscribe/unsubscribe lines carry client-chosen topics that could forge a connection line)');
      return;
    }
    if ((LOG_TYPES as readonly string[]).includes(token)) { logTypes.add(token); return; }
    if (['debug', 'subscribe', 'unsubscribe', 'internal'].includes(token)) {
      r.warn(origin, 'log_type_dropped', `log_type ${token} is left out: MCM logs error, warning, notice, information and websockets only`);
      return;
    }
    r.problem(origin, `invalid log_type ${JSON.stringify(token)} (the broker refuses it)`);
  };

  const ownedLine = (word: string, token: string | null, rest: string, origin: ConfOrigin): void => {
    switch (word) {
      case 'per_listener_settings':
        if (boolOf(token) === true) {
          st.perListener = true;
          r.warn(origin, 'per_listener_settings', 'per_listener_settings true: MCM renders false, so allow_anonymous, the password file and the ACL file apply to every listener');
        }
        return;
      case 'plugin': case 'global_plugin': case 'auth_plugin':
        if (!FILE_PLUGINS.some((lib) => rest === lib || rest.endsWith(`/${lib}`))) {
          r.warn(origin, 'plugin_dropped', `${word} ${rest} is left out: MCM authenticates and authorises with its own password and ACL files`);
        }
        return;
      case 'log_dest':
        if (token !== null && token !== 'stdout' && token !== 'stderr' && token !== 'none') {
          r.warn(origin, 'log_dest', `log_dest ${rest} is left out: MCM's broker logs to stderr, which MCM reads (the broker's lines no longer go to ${token})`);
        }
        return;
      case 'user': {
        const mine = opts.owned?.user ?? 'mosquitto';
        if (rest !== '' && rest !== mine) r.warn(origin, 'user', `user ${rest} is left out: MCM's broker runs as ${mine}, which must be able to read the broker's files`);
        return;
      }
      case 'persistence_location':
        if (rest !== '') st.persistenceLocation = { value: rest, origin };
        return;
      default: // allow_anonymous, password_file, acl_file, plugin options: parse-mosquitto-conf.ts; logging format, pid_file: MCM's
    }
  };

  readFile(text, null, 0);

  // The default listener exists when any of its settings was given (conf.c config__parse_args).
  const d = st.defaultListener;
  if (d !== null) {
    if (d.port === 0) d.port = 1883;
    r.warn(d.origin, 'default_listener', `listener lines before any listener line make the broker's default listener: port ${d.port}${d.host === null ? ' on every interface' : ` on ${d.host}`}, imported as such`);
  }
  const certs = createCertificateNamer();
  const l = listenersOf(d === null ? listeners : [...listeners, d], certs, r);
  const b = bridgesOf(bridges, certs, r);

  const chosen = st.logTypes;
  if (chosen !== null) {
    options['log_type'] = LOG_TYPES.filter((t) => chosen.has(t));
    optionOrigins['log_type'] = st.logTypeOrigin;
    if (REQUIRED_LOG_TYPES.some((t) => !chosen.has(t))) {
      r.warn(st.logTypeOrigin, 'log_type_required', `MCM always logs ${REQUIRED_LOG_TYPES.join(', ')} (it reads them), whatever log_type says`);
    }
  }
  // The broker does not persist unless told to; MCM's own default is true. Say what the broker did.
  options['persistence'] ??= false;
  const loc = st.persistenceLocation;
  if (loc !== null && options['persistence'] === true) {
    const mine = opts.owned?.persistenceLocation ?? null;
    if (mine === null || loc.value.replace(/\/+$/, '') !== mine.replace(/\/+$/, '')) {
      r.warn(loc.origin, 'persistence_location', `the broker keeps its database (mosquitto.db) in ${loc.value}; MCM's broker keeps it in ${mine ?? 'its own directory'}: copy mosquitto.db there before the first start to keep retained messages and persistent sessions`);
    }
  }
  return {
    config: { listeners: l.listeners, options, bridges: b.bridges, passthrough },
    files: { certificates: certs.certificates },
    bridgePasswords: b.passwords,
    origins: { listeners: l.origins, bridges: b.origins, options: optionOrigins, passthrough: passthroughOrigins },
    includeDirs,
    warnings,
    problems,
  };
};
