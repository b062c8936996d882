/**
 * Explain and who-can with the dynamic-security backend (issue 15): the same questions and answer
 * shapes as core/explain.ts, answered with the plugin's own evaluation order
 * (./dynsec-eval.ts, checked against the broker by tests/adapters/dynsec-differential.test.ts)
 * on the model MCM puts in the plugin. `read` is the broker delivering a message on the topic
 * (publishClientReceive); whether subscribing to the topic itself is allowed is a note, because
 * the plugin checks subscriptions too (an ACL file never refuses one).
 */
import type { AclRule } from '../core/acl-types.ts';
import type { AclSource } from '../core/acl-model.ts';
import type { ExplainQuery, ExplainResult, WhoCanResult } from '../core/explain.ts';
import { assertTopicName } from '../core/topic-filter.ts';
import { rulesByPrincipal } from '../core/evolve/rule-index.ts';
import type { BrokerConfig } from '../core/state.ts';
import { canConnect, evaluateDynsec, type DynsecDecision, type DynsecWho } from './dynsec-eval.ts';
import { ANONYMOUS_ROLE, isMcmOwnName, USER_ROLE_PREFIX, type DynsecModel } from './dynsec-model.ts';
import { DomainError, ERROR_CODES } from '../core/errors.ts';

const sourceKind = (principal: string): AclSource['source'] =>
  principal.startsWith('user:') ? 'direct' : principal === 'anonymous' ? 'anonymous' : principal.startsWith('role:') ? principal as `role:${string}` : 'pattern';

/** The MCM rules a deciding ACL stands for: same principal, same topic, and a deny for a deny. */
const rulesBehind = (state: BrokerConfig, d: DynsecDecision, serviceAccount: string): AclSource[] => {
  if (d.decidedBy.kind !== 'acl') return [];
  const { rolename, acl } = d.decidedBy;
  const principal = rolename.startsWith(USER_ROLE_PREFIX) ? `user:${rolename.slice(USER_ROLE_PREFIX.length)}`
    : rolename === ANONYMOUS_ROLE ? 'anonymous'
      : isMcmOwnName(rolename) ? null : `role:${rolename}`;
  if (principal === null) {
    return [{ principal: `user:${serviceAccount}`, topic: acl.topic, access: acl.allow ? 'readwrite' : 'deny', source: 'service-account' }];
  }
  // The rule index (core/evolve/rule-index.ts): who-can asks this for every allowed user.
  return [...rulesByPrincipal(state.rules, principal).values()]
    .filter((r: AclRule) => r.topic === acl.topic && (r.access === 'deny') === !acl.allow)
    .sort((a, b) => a.id - b.id)
    .map((r) => ({ id: r.id, principal: r.principal, topic: r.topic, access: r.access, source: sourceKind(r.principal) }));
};

const whoOf = (username: string | null | undefined): DynsecWho => (username === null || username === undefined ? { anonymous: true } : { username });

export const explainDynsec = (model: DynsecModel, state: BrokerConfig, q: ExplainQuery, opts: { serviceAccount: string }): ExplainResult => {
  const topic = assertTopicName(q.topic, 'topic');
  if (q.action !== 'read' && q.action !== 'write') throw new DomainError(ERROR_CODES.VALIDATION, 'action must be "read" or "write"', [{ field: 'action' }]);
  const who = whoOf(q.username);
  const connect = canConnect(model, who, { allowAnonymous: state.settings.allowAnonymous });
  const d = evaluateDynsec(model, who, q.action === 'write' ? 'publish' : 'receive', topic);
  const notes = ['evaluated as the dynamic-security plugin does (mosquitto.backend dynsec): the client\'s roles by priority, then its groups\' roles; the first matching ACL decides'];
  if (!connect.ok) notes.push(connect.reason);
  if (q.action === 'read') {
    const sub = evaluateDynsec(model, who, 'subscribe', topic);
    notes.push(`subscribing to "${topic}" itself: ${sub.reason}`);
  }
  return { allowed: connect.ok && d.allowed, reason: connect.ok ? d.reason : `denied: ${connect.reason}`, matched: rulesBehind(state, d, opts.serviceAccount), can_connect: connect.ok, notes };
};

export const whoCanDynsec = (model: DynsecModel, state: BrokerConfig, topicIn: string, action: 'read' | 'write', opts: { serviceAccount: string }): WhoCanResult => {
  const topic = assertTopicName(topicIn, 'topic');
  const act = action === 'write' ? 'publish' : 'receive';
  const users: WhoCanResult['users'] = [];
  for (const c of model.clients) {
    // MCM's own clients are listed below (the service account) or never act (the probe's).
    if (c.username === opts.serviceAccount || isMcmOwnName(c.username)) continue;
    if (!canConnect(model, { username: c.username }).ok) continue;
    const d = evaluateDynsec(model, { username: c.username }, act, topic);
    if (d.allowed) users.push({ username: c.username, matched: rulesBehind(state, d, opts.serviceAccount) });
  }
  const own = evaluateDynsec(model, { username: opts.serviceAccount }, act, topic);
  if (own.allowed) users.push({ username: opts.serviceAccount, matched: rulesBehind(state, own, opts.serviceAccount), mcm_service_account: true });
  const anon = evaluateDynsec(model, { anonymous: true }, act, topic);
  return { users, anonymous: state.settings.allowAnonymous && anon.allowed, depends_on_clientid: [] };
};
