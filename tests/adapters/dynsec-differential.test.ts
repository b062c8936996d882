/**
 * Differential test of projections/dynsec-eval.ts: a hand-built DynsecModel is loaded into a real
 * Mosquitto 2.0.11 with the dynamic-security plugin, and for every (client, action, topic) of the
 * corpus the broker's answer must equal evaluateDynsec's. Any disagreement fails, naming the case.
 *
 * How the broker is asked (MQTT v5, one connection per client and broker):
 * - connect: CONNACK accepted or refused, against canConnect;
 * - publish: QoS 1, PUBACK 0x87 = denied;
 * - subscribe / unsubscribe: the SUBACK / UNSUBACK reason code per filter, >= 0x80 = denied;
 * - receive: the service client publishes each topic retained before anyone subscribes, and again
 *   live after the subscriptions; each client subscribes to what it may (the candidate filters'
 *   SUBACKs are subscribe cases too), then a barrier message on `mcm-test/barrier`, which every
 *   client may read, proves every earlier message has been delivered or dropped. A (client, topic)
 *   pair is a receive case only when one of its granted filters matches the topic.
 *   `$SYS/broker/version` is the broker's own retained message.
 *
 * Three brokers: MCM's default access with allow_anonymous true (the main corpus), a permissive
 * default access (fall-through and `$CONTROL`), and allow_anonymous false (connects only).
 * Finding recorded here (2.0.11): an anonymous client gets the anonymous group's rights only with
 * `allow_anonymous true`; with `false` its CONNECT is refused whatever the anonymousGroup says
 * (security.c `mosquitto_unpwd_check`: the plugin defers on a missing username).
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { MqttClient } from 'mqtt';
import { topicMatches } from '../../core/topic-match.ts';
import { canConnect, evaluateDynsec, type DynsecAction, type DynsecWho } from '../../projections/dynsec-eval.ts';
import type { DefaultAclAccess, DynsecAcl, DynsecAclType, DynsecClient, DynsecModel, DynsecRole, DynsecRoleRef } from '../../projections/dynsec-model.ts';
import { writeAllowed } from '../helpers/broker-decisions.ts';
import { hashPassword, requireDynsec, startDynsecBroker, type DynsecEnv } from '../helpers/dynsec-broker.ts';
import { login } from '../helpers/mqtt-client.ts';

// ---------------------------------------------------------------------------------------------
// The corpus model
// ---------------------------------------------------------------------------------------------

const acl = (acltype: DynsecAclType, topic: string, allow: boolean, priority = 0): DynsecAcl => ({ acltype, topic, allow, priority });
/** MCM's `read`: subscribePattern + publishClientReceive. */
const read = (topic: string, allow = true, priority = 0): DynsecAcl[] =>
  [acl('subscribePattern', topic, allow, priority), acl('publishClientReceive', topic, allow, priority)];
const send = (topic: string, allow = true, priority = 0): DynsecAcl => acl('publishClientSend', topic, allow, priority);
const role = (rolename: string, acls: DynsecAcl[]): DynsecRole => ({ rolename, textdescription: '', acls });
const ref = (rolename: string, priority: number): DynsecRoleRef => ({ rolename, priority });

const BARRIER = 'mcm-test/barrier';
/** Every client may read the barrier; no corpus topic equals it, so it decides nothing else. */
const BARRIER_REF = ref('barrier', 1000);
const password = (username: string): string => `${username}-pw`;

const ROLES: DynsecRole[] = [
  role('barrier', [acl('subscribeLiteral', BARRIER, true), acl('publishClientReceive', BARRIER, true)]),
  role('svc', [send('#'), send('$mcm/#'), send('$test/#'), ...read('#')]),
  // MCM's shape: a user's own rules in `user:<name>` (priority 1), denies at ACL priority 1.
  role('user:alice', [...read('home/alice/#'), send('home/alice/#'), ...read('home/alice/private/#', false, 1), send('home/alice/private/#', false, 1)]),
  role('monitoring', [
    ...read('$SYS/#'), ...read('sensors/#'),
    acl('publishClientReceive', 'sensors/secret', false, 1), acl('subscribeLiteral', 'sensors/secret', false),
    send('$SYS/#'), send('$SYSTEM/#'), send('$share/#'), send('$CONTROL/mcm-test/#'),
    acl('subscribePattern', '$share/+/sensors/#', true),
  ]),
  // bob: two roles, the higher one overriding part of the lower one; ACL priorities inside a role.
  role('ops-low', [send('plant/#'), ...read('plant/#')]),
  role('ops-high', [
    send('plant/valves/#', false, 1), send('plant/valves/test', true, 3),
    acl('publishClientReceive', 'plant/valves/#', false, -5), acl('subscribePattern', 'plant/valves/#', false),
  ]),
  // carol: two roles of equal priority (listed zz first), equal-priority ACLs in both orders,
  // literal vs pattern subscribes, and unsubscribe ACLs.
  role('zz-allow', [send('tie/roles/#'), acl('publishClientReceive', 'tie/roles/#', true), acl('subscribePattern', 'tie/#', true)]),
  role('aa-deny', [send('tie/roles/#', false), acl('publishClientReceive', 'tie/roles/#', false)]),
  role('tie-acls', [
    send('tie1/+'), send('tie1/#', false), send('tie2/#', false), send('tie2/+'),
    acl('publishClientReceive', 'tie1/+', true), acl('publishClientReceive', 'tie1/#', false),
    acl('publishClientReceive', 'tie2/#', false), acl('publishClientReceive', 'tie2/+', true),
    acl('subscribePattern', '+/x', true),
  ]),
  role('lit', [
    acl('subscribePattern', 'lit/#', false, 9), acl('subscribeLiteral', 'lit/a', true),
    acl('unsubscribeLiteral', 'lit/a', false), acl('unsubscribePattern', 'wild/#', false),
    acl('unsubscribeLiteral', 'lit/b', true), acl('unsubscribePattern', 'deep/#', true),
  ]),
  role('sub-wild', [
    acl('subscribePattern', 'wild/+/x', true), acl('subscribePattern', 'deep/#', true),
    acl('subscribeLiteral', 'exact/+', true), acl('subscribeLiteral', 'lit/b', true),
    acl('publishClientReceive', 'wild/#', true), acl('publishClientReceive', 'deep/#', true),
  ]),
  // dave: only group rights, plus one low-priority own role that still comes before any group.
  role('dave-own', [send('own-vs-group/#')]),
  role('grp-deny', [send('tie/groups/#', false), acl('publishClientReceive', 'tie/groups/#', false), send('own-vs-group/#', false)]),
  role('grp-allow', [send('tie/groups/#'), acl('publishClientReceive', 'tie/groups/#', true), acl('subscribePattern', '#', true), acl('publishClientReceive', 'own-vs-group/#', true)]),
  // gina: '#' denies at high priority, which never matches a '$' topic.
  role('deny-all', [send('#', false), acl('publishClientReceive', '#', false)]),
  role('reader', [acl('subscribePattern', '#', true), acl('publishClientReceive', '$SYS/#', true), acl('publishClientReceive', '$mcm/#', true), acl('publishClientReceive', 'news/#', true), send('$test/#')]),
  // henry: '+/#' as a subscribe pattern covers '$SYS/#' and '#' (sub_acl_check has no '$' rule).
  role('plus-hash', [acl('subscribePattern', '+/#', true)]),
  // kim: the edge cases of sub_matching.c's own tests.
  role('patterns', [acl('subscribePattern', '/#', true), acl('subscribePattern', 'a/+', true), acl('subscribePattern', 'foo/+/bar/#', true), acl('subscribePattern', '+', true)]),
  role('anon-role', [...read('public/#'), ...read('public/secret', false, 1), send('public/inbox')]),
];

const client = (username: string, roles: DynsecRoleRef[], extra: Partial<DynsecClient> = {}): DynsecClient =>
  ({ username, textdescription: '', disabled: false, roles, passwordHash: hashPassword(password(username)), ...extra });

const CLIENTS: DynsecClient[] = [
  client('alice', [ref('user:alice', 1), ref('monitoring', 0), BARRIER_REF]),
  client('bob', [ref('ops-low', 0), ref('ops-high', 5), BARRIER_REF]),
  client('carol', [ref('zz-allow', 2), ref('aa-deny', 2), ref('tie-acls', 0), ref('lit', 1), ref('sub-wild', 0), BARRIER_REF]),
  client('dave', [ref('dave-own', -10), BARRIER_REF]),
  client('erin', [ref('monitoring', 0)], { disabled: true }),
  client('frank', [ref('monitoring', 0)], { passwordHash: '' }),
  client('gina', [ref('deny-all', 10), ref('reader', 0), BARRIER_REF]),
  client('henry', [ref('plus-hash', 0)]), // and a member of the anonymous group
  client('ivan', [BARRIER_REF]),
  client('kim', [ref('patterns', 0), BARRIER_REF]),
  client('svc', [ref('svc', 0), BARRIER_REF]),
];

const modelWith = (defaultACLAccess: DefaultAclAccess): DynsecModel => ({
  defaultACLAccess,
  clients: CLIENTS,
  roles: ROLES,
  groups: [
    // Listed zeta first, with the higher role priority: the plugin still checks g-alpha first.
    { groupname: 'g-zeta', roles: [ref('grp-allow', 100)], clients: ['dave'] },
    { groupname: 'g-alpha', roles: [ref('grp-deny', 0)], clients: ['dave'] },
    { groupname: 'anon', roles: [ref('anon-role', 0), BARRIER_REF], clients: ['henry'] },
  ],
  anonymousGroup: 'anon',
  unsupported: [],
});

const MCM_DEFAULT: DefaultAclAccess = { publishClientSend: false, publishClientReceive: false, subscribe: false, unsubscribe: true };
const PERMISSIVE: DefaultAclAccess = { publishClientSend: true, publishClientReceive: true, subscribe: true, unsubscribe: false };

/** Topics the service client publishes (retained, then live) for the receive cases. */
const RECEIVE_TOPICS = [
  'home/alice/x', 'home/alice/private/x', 'home/bob/x', 'sensors/room1/temp', 'sensors/secret',
  'plant/valves/x', 'plant/valves/test', 'plant/pumps/x', 'public/news', 'public/secret', 'public/inbox',
  'news/today', 'tie/roles/x', 'tie/groups/x', 'tie1/x', 'tie2/x', 'own-vs-group/x', 'wild/a/x', 'deep/x/z',
  'other/x', '$mcm/probe/1', '$test/x',
];
const SYS_VERSION = '$SYS/broker/version';
const RECEIVE_FILTERS = ['#', '$SYS/#', '$mcm/#', '$test/#', SYS_VERSION, BARRIER, ...RECEIVE_TOPICS];

const PUBLISH_TOPICS = [
  ...RECEIVE_TOPICS, 'home/alice/private', 'plant', 'tie1/x/y', 'tie2/x/y', 'public/inbox/x',
  '$SYS/broker/x', '$SYS/broker/connection/br1/state', '$SYSTEM/x', '$share/grp/sensors/x',
  '$CONTROL/mcm-test/x', '$CONTROLLER/x', '$other/x', BARRIER,
];

const FILTERS = [
  '#', '+/#', '+/x', '$SYS/#', SYS_VERSION, '$mcm/#', '$CONTROL/#', '$CONTROLLER/x', '$share/grp/sensors/x',
  '$share/grp/home/alice/x', 'home/alice/#', 'home/alice/x', 'home/alice/private/#', 'home/alice/private/x', 'home/+/x',
  'home/#', 'sensors/#', 'sensors/+/temp', 'sensors/secret', 'plant/#', 'plant/valves/#', 'plant/valves/x', 'plant/pumps/+',
  'tie/roles/x', 'tie/groups/x', 'tie1/x', 'lit/a', 'lit/b', 'lit/#', 'lit/+', 'wild/a/x', 'wild/+/x', 'wild/#', 'wild/a/y',
  'wild/a', 'deep', 'deep/#', 'deep/+/z', 'exact/+', 'exact/a', 'public/#', 'public/news', 'public/secret', 'public/+',
  'news/#', '+', '/+', '/x', 'a/b', 'a/+', 'a/#', 'a/+/#', 'a/b/c', 'foo/baz/bar', 'foo/baz/bar/+', 'foo/baz/+/#', 'foo/+/bar/#', BARRIER,
];

// ---------------------------------------------------------------------------------------------
// Asking the broker
// ---------------------------------------------------------------------------------------------

type Subject = { label: string; who: DynsecWho; username?: string; password?: string };

const SUBJECTS: Subject[] = [
  ...CLIENTS.map((c) => ({ label: c.username, who: { username: c.username }, username: c.username, password: password(c.username) })),
  { label: '(anonymous)', who: { anonymous: true } },
  { label: 'nobody (unknown)', who: { username: 'nobody' }, username: 'nobody', password: 'nobody-pw' },
];

const denied = (code: number): boolean => code >= 0x80;

const subscribeCodes = (c: MqttClient, filters: string[]): Promise<number[]> =>
  new Promise((resolve, reject) => {
    c.subscribe(filters, { qos: 1 }, (err, _granted, packet) => {
      const codes = (packet as { granted?: number[] } | undefined)?.granted;
      if (codes?.length === filters.length) resolve(codes);
      else reject(err ?? new Error(`no SUBACK codes for ${filters.join(', ')}`));
    });
  });

const unsubscribeCodes = (c: MqttClient, filters: string[]): Promise<number[]> =>
  new Promise((resolve, reject) => {
    c.unsubscribe(filters, {}, (err, packet) => {
      const codes = (packet as { granted?: number[] } | undefined)?.granted;
      if (codes?.length === filters.length) resolve(codes);
      else reject(err ?? new Error(`no UNSUBACK codes for ${filters.join(', ')}`));
    });
  });

/** Messages a client got, as `topic\0payload`, and a promise for the barrier. */
const collect = (c: MqttClient): { seen: Set<string>; barrier: Promise<void> } => {
  const seen = new Set<string>();
  let release = (): void => undefined;
  const barrier = new Promise<void>((resolve) => { release = resolve; });
  c.on('message', (topic, payload) => {
    seen.add(`${topic}\u0000${payload.toString()}`);
    if (topic === BARRIER && payload.toString() === 'barrier') release();
  });
  return { seen, barrier };
};

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`timed out: ${what}`)), ms).unref())]);
}

type Tally = { counts: Record<string, number>; mismatches: string[] };

const record = (tally: Tally, broker: string, model: DynsecModel, s: Subject, action: DynsecAction, topic: string, brokerAllowed: boolean, note = ''): void => {
  const d = evaluateDynsec(model, s.who, action, topic);
  const key = `${action} ${brokerAllowed ? 'allowed' : 'denied'}`;
  tally.counts[key] = (tally.counts[key] ?? 0) + 1;
  if (d.allowed !== brokerAllowed) {
    tally.mismatches.push(`[${broker}] ${s.label} ${action}${note} "${topic}": broker ${brokerAllowed ? 'allowed' : 'denied'}, evaluateDynsec ${d.allowed ? 'allowed' : 'denied'} — ${d.reason}`);
  }
};

/** Runs the whole corpus against one broker; returns the tally (asserted by the caller). */
const runCorpus = async (t: TestContext, env: DynsecEnv, broker: string, model: DynsecModel, allowAnonymous: boolean, connectOnly = false): Promise<Tally> => {
  const tally: Tally = { counts: {}, mismatches: [] };
  const b = await startDynsecBroker(t, env, model, { allowAnonymous });

  // Connect: every client of the model, anonymous, and an unknown username.
  const connected = new Map<Subject, MqttClient>();
  for (const s of SUBJECTS) {
    const r = await login(t, b.port, s.username, s.password);
    const expected = canConnect(model, s.who, { allowAnonymous });
    const key = `connect ${r.ok ? 'accepted' : 'refused'}`;
    tally.counts[key] = (tally.counts[key] ?? 0) + 1;
    if (r.ok !== expected.ok) {
      tally.mismatches.push(`[${broker}] ${s.label} connect: broker ${r.ok ? 'accepted' : `refused (${String(r.code)})`}, canConnect ${expected.ok ? 'ok' : 'refused'} — ${expected.reason}`);
    }
    if (r.ok) {
      if (connectOnly) r.client.end(true);
      else connected.set(s, r.client);
    }
  }
  if (connectOnly) return tally;
  const svc = [...connected].find(([s]) => s.label === 'svc')?.[1];
  assert.ok(svc, 'the service client is connected');
  const subjects = [...connected.keys()];

  // Receive: retained messages first, then subscriptions, then live messages and the barrier.
  for (const topic of RECEIVE_TOPICS) {
    await svc.publishAsync(topic, `retained:${topic}`, { qos: 1, retain: true });
  }
  const listening = await Promise.all(subjects.map(async (s) => {
    const c = connected.get(s)!;
    const inbox = collect(c);
    const codes = await subscribeCodes(c, RECEIVE_FILTERS);
    const granted = RECEIVE_FILTERS.filter((f, i) => {
      record(tally, broker, model, s, 'subscribe', f, !denied(codes[i]!), ' (receive set-up)');
      return !denied(codes[i]!);
    });
    return { s, inbox, granted };
  }));
  for (const topic of RECEIVE_TOPICS) await svc.publishAsync(topic, `live:${topic}`, { qos: 1 });
  await svc.publishAsync(BARRIER, 'barrier', { qos: 1 });
  for (const { s, inbox, granted } of listening) {
    assert.ok(granted.includes(BARRIER), `${s.label} may subscribe to the barrier`);
    await within(inbox.barrier, 5000, `${s.label} got the barrier`);
    for (const topic of [...RECEIVE_TOPICS, SYS_VERSION]) {
      if (!granted.some((f) => topicMatches(f, topic))) continue; // not subscribed: nothing to learn
      const got = (payload: string): boolean => inbox.seen.has(`${topic}\u0000${payload}`);
      if (topic === SYS_VERSION) {
        record(tally, broker, model, s, 'receive', topic, [...inbox.seen].some((k) => k.startsWith(`${topic}\u0000`)), ' (retained by the broker)');
        continue;
      }
      record(tally, broker, model, s, 'receive', topic, got(`live:${topic}`), ' (live)');
      record(tally, broker, model, s, 'receive', topic, got(`retained:${topic}`), ' (retained)');
    }
  }

  // Publish, then subscribe and unsubscribe (deliveries are no longer looked at).
  await Promise.all(subjects.map(async (s) => {
    const c = connected.get(s)!;
    for (const topic of PUBLISH_TOPICS) record(tally, broker, model, s, 'publish', topic, await writeAllowed(c, topic, 'p'));
    const subCodes = await subscribeCodes(c, FILTERS);
    FILTERS.forEach((f, i) => record(tally, broker, model, s, 'subscribe', f, !denied(subCodes[i]!)));
    const unsubCodes = await unsubscribeCodes(c, FILTERS);
    FILTERS.forEach((f, i) => record(tally, broker, model, s, 'unsubscribe', f, !denied(unsubCodes[i]!)));
  }));
  return tally;
};

const check = (t: TestContext, tally: Tally, atLeast: number): void => {
  const total = Object.values(tally.counts).reduce((a, b) => a + b, 0);
  t.diagnostic(`${total} cases: ${JSON.stringify(tally.counts)}`);
  assert.deepEqual(tally.mismatches, [], `broker and evaluateDynsec disagree on ${tally.mismatches.length} of ${total} cases:\n${tally.mismatches.join('\n')}`);
  assert.ok(total >= atLeast, `at least ${atLeast} cases (got ${total})`);
};

test('dynsec: MCM default access, allow_anonymous true — broker and evaluateDynsec agree on every case', async (t) => {
  const env = requireDynsec(t);
  if (!env) return;
  check(t, await runCorpus(t, env, 'mcm-default', modelWith(MCM_DEFAULT), true), 500);
});

test('dynsec: permissive default access (fall-through, $CONTROL never falls through) — broker and evaluateDynsec agree', async (t) => {
  const env = requireDynsec(t);
  if (!env) return;
  check(t, await runCorpus(t, env, 'permissive', modelWith(PERMISSIVE), true), 500);
});

test('dynsec: allow_anonymous false refuses anonymous clients despite an anonymous group; disabled, password-less and unknown clients never connect', async (t) => {
  const env = requireDynsec(t);
  if (!env) return;
  check(t, await runCorpus(t, env, 'no-anonymous', modelWith(MCM_DEFAULT), false, true), SUBJECTS.length);
});
