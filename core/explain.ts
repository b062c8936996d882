/**
 * Explain: would the broker let this client read or write this topic, and which rule decides?
 * A step-by-step transcription of Mosquitto 2.0.11's default ACL check (reference §2.3:
 * `acl__check_dollar`, `mosquitto_acl_check_default`), run on the model the ACL file is rendered
 * from, so the answer is the broker's answer (a differential test compares the two).
 */
import { DomainError, ERROR_CODES } from './errors.ts';
import type { Access, Action } from './acl-types.ts';
import type { AclEntry, AclModel, AclSource } from './acl-model.ts';
import type { BrokerConfig } from './state.ts';
import { assertTopicName } from './topic-filter.ts';
import { topicMatches } from './topic-match.ts';

export type ExplainQuery = { username?: string | null; clientid?: string | null; topic: string; action: 'read' | 'write' };
export type ExplainResult = { allowed: boolean; reason: string; matched: AclSource[]; can_connect: boolean; notes: string[] };
export type ExplainOptions = { serviceAccount: string };

type Decision = { allowed: boolean; reason: string; matched: AclSource[]; notes: string[] };
/** `clientid: null` means unknown: %c patterns and the dangerous-id check can't be evaluated. */
type Client = { username: string | null; clientid: string | null; label: string };

const grants = (access: Access, action: Action): boolean => access === 'readwrite' || access === action;
const usesC = (topic: string): boolean => topic.includes('%c');
const usesU = (topic: string): boolean => topic.includes('%u');

/** Plain text substitution, left to right, as the broker does it (no escaping, '/' kept). */
export const substitutePattern = (pattern: string, username: string | null, clientid: string): string =>
  pattern.replace(/%[cu]/g, (m) => (m === '%c' ? clientid : (username ?? m)));

const line = (kind: 'topic' | 'pattern', e: AclEntry): string => `"${kind} ${e.access} ${e.topic}"`;
const origin = (s: AclSource): string =>
  s.source === 'service-account'
    ? 'MCM service account'
    : `rule ${s.id ?? '?'}${s.source.startsWith('role:') ? ` via ${s.source.replace(':', ' ')}` : ''}`;
const origins = (sources: readonly AclSource[]): string => sources.map(origin).join(', ');

/** The sources of a deciding entry that themselves match (merged entries carry covered rules too). */
const deciding = (e: AclEntry, client: Client, topic: string, action: Action): AclSource[] => {
  const own = e.sources.filter((s) => {
    const f = s.source === 'pattern' ? substitutePattern(s.topic, client.username, client.clientid ?? '') : s.topic;
    return topicMatches(f, topic) && (s.access === 'deny' || grants(s.access, action));
  });
  return own.length > 0 ? own : e.sources;
};

const DOLLAR_NOTE = "wildcards never match topics starting with '$': only a rule whose topic starts with '$' can [ref §2.3]";

/** The broker's check for a client that is connected (steps of reference §2.3, in order). */
const evaluate = (model: AclModel, list: AclEntry[] | undefined, client: Client, topic: string, action: Action): Decision => {
  const notes: string[] = [];
  const deny = (reason: string, matched: AclSource[] = []): Decision => ({ allowed: false, reason, matched, notes });
  const allow = (reason: string, matched: AclSource[]): Decision => ({ allowed: true, reason, matched, notes });

  if (topic.startsWith('$SYS')) {
    // Only bridge state topics are let through to the normal check (acl__check_dollar).
    if (action === 'write' && !topicMatches('$SYS/broker/connection/+/state', topic)) {
      return deny('denied: the broker refuses every publish to a $SYS topic, whatever the ACL says [ref §2.3]');
    }
  } else if (topic.startsWith('$share')) {
    return deny('denied: topics starting with "$share" only name shared subscriptions; the broker denies reading or writing them [ref §2.3]');
  }
  const entries = list ?? [];
  if (entries.length === 0 && model.patterns.length === 0) {
    return deny(`denied: ${client.label} has no ACL rules and there are no pattern rules, so the broker denies everything [ref §2.3]`);
  }

  let dollarSkipped = false;
  for (const e of entries) {
    if (topic.startsWith('$') && !e.topic.startsWith('$')) {
      dollarSkipped ||= e.access === 'deny' || grants(e.access, action);
      continue;
    }
    if (!topicMatches(e.topic, topic)) continue;
    const matched = deciding(e, client, topic, action);
    if (e.access === 'deny') {
      return deny(`denied by ${line('topic', e)} in ${client.label}'s rules (${origins(matched)}); deny lines are checked first [ref §2.2]`, matched);
    }
    if (grants(e.access, action)) {
      return allow(`allowed by ${line('topic', e)} in ${client.label}'s rules (${origins(matched)})`, matched);
    }
    notes.push(`${line('topic', e)} matches but grants ${e.access}, not ${action}; the broker keeps looking [ref §2.3]`);
  }

  if (model.patterns.length > 0) {
    for (const [what, value] of [['username', client.username], ['client id', client.clientid]] as const) {
      if (value !== null && /[+#]/.test(value)) {
        return deny(`denied: the ${what} "${value}" contains '+' or '#', and with pattern rules present the broker denies such a client everything [ref §2.3]`);
      }
    }
    if (client.clientid === null) {
      notes.push("the client id is unknown: a client id containing '+' or '#' would be denied everything, because pattern rules exist [ref §2.3]");
    }
  }

  const skippedC: AclEntry[] = [];
  for (const p of model.patterns) {
    if (usesU(p.topic) && client.username === null) continue; // the broker skips %u patterns for anonymous clients
    if (usesC(p.topic) && client.clientid === null) {
      if (p.access === 'deny' || grants(p.access, action)) skippedC.push(p);
      continue;
    }
    const f = substitutePattern(p.topic, client.username, client.clientid ?? '');
    if (topic.startsWith('$') && !f.startsWith('$')) {
      dollarSkipped ||= p.access === 'deny' || grants(p.access, action);
      continue;
    }
    if (!topicMatches(f, topic)) continue;
    const matched = deciding(p, client, topic, action);
    const as = f === p.topic ? '' : ` (as ${f})`;
    if (p.access === 'deny') return deny(`denied by ${line('pattern', p)}${as} (${origins(matched)}) [ref §2.3]`, matched);
    if (grants(p.access, action)) return allow(`allowed by ${line('pattern', p)}${as} (${origins(matched)}) [ref §2.3]`, matched);
    notes.push(`${line('pattern', p)}${as} matches but grants ${p.access}, not ${action}; the broker keeps looking [ref §2.3]`);
  }
  if (skippedC.length > 0) {
    notes.push(`no client id given, so these %c patterns were not evaluated: ${skippedC.map((p) => line('pattern', p)).join(', ')}`);
  }
  if (dollarSkipped) notes.push(DOLLAR_NOTE);
  return deny(`denied: no rule grants ${action} on "${topic}" to ${client.label}, and the broker denies by default [ref §2.3]`);
};

const checkAction = (action: unknown): Action => {
  if (action === 'read' || action === 'write') return action;
  throw new DomainError(ERROR_CODES.VALIDATION, 'action must be "read" or "write"', [{ field: 'action', value: action, rule: 'read | write' }]);
};

/** Why a username cannot log in, or null when it can (the password file holds enabled users only). */
const loginProblem = (state: BrokerConfig, username: string | null, opts: ExplainOptions): string | null => {
  if (username === null) {
    return state.settings.allowAnonymous ? null : 'anonymous clients cannot connect: anonymous access is off (allow_anonymous false)';
  }
  if (username === opts.serviceAccount) return null;
  const user = Object.hasOwn(state.users, username) ? state.users[username] : undefined;
  if (!user) return `user "${username}" is not an MQTT user, so the broker refuses the connection`;
  if (user.disabled) return `user "${username}" is disabled (absent from the password file), so the broker refuses the connection`;
  return null;
};

export const explain = (model: AclModel, state: BrokerConfig, q: ExplainQuery, opts: ExplainOptions): ExplainResult => {
  const topic = assertTopicName(q.topic, 'topic');
  const action = checkAction(q.action);
  const username = q.username ?? null;
  // An empty client id is replaced by a broker-generated one (auto-…), so it is as unknown as none.
  const clientid = q.clientid === undefined || q.clientid === null || q.clientid === '' ? null : q.clientid;
  const client: Client = { username, clientid, label: username === null ? 'anonymous clients' : `user "${username}"` };
  const list = username === null ? model.anonymous : model.users.get(username);
  const d = evaluate(model, list, client, topic, action);
  const notes = [...d.notes];
  if (action === 'read') notes.push('reading is checked per message at delivery; subscribing itself is never refused by acl_file [ref §2.4]');
  const problem = loginProblem(state, username, opts);
  if (problem !== null) {
    notes.unshift(`if it could connect, the ACL would say: ${d.reason}`);
    return { allowed: false, reason: problem, matched: [], can_connect: false, notes };
  }
  return { allowed: d.allowed, reason: d.reason, matched: d.matched, can_connect: true, notes };
};

export type WhoCanResult = {
  /** `mcm_service_account`: MCM's own account (it observes, publishes for operators and probes), listed so nothing is hidden. */
  users: { username: string; matched: AclSource[]; mcm_service_account?: true }[];
  anonymous: boolean;
  /** Pattern rules with %c that could decide for some client id (not evaluated: the id is unknown). */
  depends_on_clientid: AclSource[];
  patterns_note?: string;
};

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whether pattern `p` could match `topic` for SOME client (id and username unknown): %c and %u
 * stand for any text without '+' or '#' (such names are denied outright), '/' included.
 */
const couldMatchSomeClient = (p: string, topic: string): boolean => {
  if (!/^%[cu]/.test(p) && p.startsWith('$') !== topic.startsWith('$')) return false;
  const levels = p.split('/').map((l, i) => {
    if (l === '+') return '[^/]*';
    if (l === '#') return i === 0 ? '.*' : null;
    return l.split(/%[cu]/).map(escapeRegExp).join('[^+#]+');
  });
  const body = levels.reduce<string>((acc, l, i) => (l === null ? `${acc}(?:/.*)?` : i === 0 ? l : `${acc}/${l}`), '');
  return new RegExp(`^${body}$`, 'su').test(topic);
};

/** Which enabled users (and whether anonymous clients) may read or write `topic`. */
export const whoCan = (model: AclModel, state: BrokerConfig, topic: string, action: Action, opts: ExplainOptions): WhoCanResult => {
  const t = assertTopicName(topic, 'topic');
  const a = checkAction(action);
  const users: WhoCanResult['users'] = [];
  const sorted = Object.keys(state.users).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  for (const username of sorted) {
    if (username === opts.serviceAccount || state.users[username]?.disabled) continue;
    const d = evaluate(model, model.users.get(username), { username, clientid: null, label: `user "${username}"` }, t, a);
    if (d.allowed) users.push({ username, matched: d.matched });
  }
  // MCM's own account is a real login with real rights on the broker: shown, and marked as MCM's.
  const own = evaluate(model, model.users.get(opts.serviceAccount), { username: opts.serviceAccount, clientid: null, label: `MCM's service account "${opts.serviceAccount}"` }, t, a);
  if (own.allowed) users.push({ username: opts.serviceAccount, matched: own.matched, mcm_service_account: true });
  const anon = evaluate(model, model.anonymous, { username: null, clientid: null, label: 'anonymous clients' }, t, a);
  const depends = model.patterns
    .filter((p) => usesC(p.topic) && (p.access === 'deny' || grants(p.access, a)) && couldMatchSomeClient(p.topic, t))
    .flatMap((p) => p.sources);
  const result: WhoCanResult = { users, anonymous: state.settings.allowAnonymous && anon.allowed, depends_on_clientid: depends };
  if (depends.length > 0) {
    result.patterns_note = 'pattern rules with %c depend on the client id, which is only known per connection; they were not evaluated here';
  }
  return result;
};
