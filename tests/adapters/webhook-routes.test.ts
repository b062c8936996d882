/**
 * The webhook routes (issue 5, DESIGN §8: admin only): the secret is shown once and never again,
 * it signs the deliveries, rotation replaces it; bad input and private targets are 400 with a
 * stable code and record nothing; other roles are refused; deliveries are paged newest first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { problemsWith } from '../../adapters/http/validate.ts';
import { createLiveBus } from '../../adapters/live/live-bus.ts';
import { createWebhookDispatcher, verifySignature } from '../../adapters/webhooks/dispatcher.ts';
import { createWebhookOutbox } from '../../adapters/webhooks/outbox.ts';
import { createTestApp, type TestApp } from '../helpers/http.ts';
import { startReceiver } from './webhook-receiver.ts';

const URL_OK = 'https://203.0.113.10/mcm'; // TEST-NET-3: public to the guard, no DNS needed

const create = async (h: TestApp, body: unknown) =>
  h.request('POST', '/api/v1/webhooks', { token: await h.tokenFor('admin'), body });

const allEventsJson = (h: TestApp): string => JSON.stringify(h.store.read());

describe('POST /webhooks and reads', () => {
  it('answers the generated secret once (no-store), stores only its ciphertext, and never shows it again', async (t) => {
    const h = await createTestApp(t);
    const before = h.eventCount();
    const res = await create(h, { url: URL_OK, events: ['broker_down', 'apply_failed'], description: 'pager' });
    assert.equal(res.status, 201, res.text);
    assert.deepEqual(problemsWith('WebhookWithSecret', res.body), []);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('location'), `/api/v1/webhooks/${res.body.id}`);
    assert.equal(res.headers.get('etag'), `"${h.eventCount()}"`);
    assert.equal(h.eventCount(), before + 1);
    const secret = res.body.secret as string;
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(res.body.events, ['apply_failed', 'broker_down']);
    assert.equal(res.body.enabled, true);

    // The log holds the sealed secret only.
    const log = allEventsJson(h);
    assert.ok(!log.includes(secret), 'no plaintext secret in the event log');
    const created = h.store.read().find((e) => e.type === 'WebhookCreated');
    assert.ok(created?.type === 'WebhookCreated');
    assert.match(created.data.secretCiphertext, /^v1\./);

    const admin = await h.tokenFor('admin');
    const one = await h.request('GET', `/api/v1/webhooks/${res.body.id}`, { token: admin });
    const list = await h.request('GET', '/api/v1/webhooks', { token: admin });
    assert.equal(one.status, 200);
    assert.deepEqual(problemsWith('Webhook', one.body), []);
    assert.deepEqual(problemsWith('WebhookList', list.body), []);
    for (const r of [one, list]) {
      assert.ok(!r.text.includes(secret) && !r.text.includes('secret'), r.text);
    }
    assert.deepEqual(list.body.items.map((x: { id: number }) => x.id), [res.body.id]);
  });

  it('updates, rotates (new secret, once) and deletes; a deleted webhook is 404', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const { body: hook } = await create(h, { url: URL_OK, events: ['broker_down'] });
    const put = await h.request('PUT', `/api/v1/webhooks/${hook.id}`, { token: admin, body: { enabled: false, events: ['broker_up', 'broker_down'] } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.body.enabled, false);
    assert.deepEqual(put.body.events, ['broker_down', 'broker_up']);

    const rot = await h.request('POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, { token: admin });
    assert.equal(rot.status, 200, rot.text);
    assert.equal(rot.headers.get('cache-control'), 'no-store');
    assert.deepEqual(problemsWith('WebhookWithSecret', rot.body), []);
    assert.notEqual(rot.body.secret, hook.secret);
    assert.ok(!allEventsJson(h).includes(rot.body.secret));

    const del = await h.request('DELETE', `/api/v1/webhooks/${hook.id}`, { token: admin });
    assert.equal(del.status, 204);
    for (const [m, p] of [['GET', ''], ['PUT', ''], ['POST', '/rotate-secret'], ['GET', '/deliveries'], ['DELETE', '']] as const) {
      const res = await h.request(m, `/api/v1/webhooks/${hook.id}${p}`, { token: admin, ...(m === 'PUT' ? { body: { enabled: true } } : {}) });
      assert.equal(res.status, 404, `${m} ${p}`);
      assert.equal(res.body.error.code, 'MCM_ERR_WEBHOOK_NOT_FOUND');
    }
  });

  it('the secret shown once signs the deliveries; after rotation only the new one does', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.webhooks.allow_private = true; } });
    const r = await startReceiver(t);
    const bus = createLiveBus();
    const dispatcher = createWebhookDispatcher({
      db: h.db, store: h.store, bus, secrets: h.deps.secrets, clock: h.deps.clock, logger: pino({ level: 'silent' }), config: h.config,
    });
    dispatcher.start();
    t.after(() => dispatcher.stop());
    const admin = await h.tokenFor('admin');
    const res = await create(h, { url: r.url(), events: ['broker_down'] });
    assert.equal(res.status, 201, res.text);

    bus.publish({ type: 'broker_status', up: false, reason: 'test', at: h.clock.now() });
    const [first] = await r.waitFor(1);
    assert.ok(first);
    const sig1 = first.headers['x-mcm-signature'] as string;
    assert.equal(verifySignature(res.body.secret, sig1, first.body, 300), true);

    const rot = await h.request('POST', `/api/v1/webhooks/${res.body.id}/rotate-secret`, { token: admin });
    bus.publish({ type: 'broker_status', up: true, at: h.clock.now() });
    bus.publish({ type: 'broker_status', up: false, at: h.clock.now() });
    const received = await r.waitFor(2);
    const second = received[1];
    assert.ok(second);
    const sig2 = second.headers['x-mcm-signature'] as string;
    assert.equal(verifySignature(rot.body.secret, sig2, second.body, 300), true);
    assert.equal(verifySignature(res.body.secret, sig2, second.body, 300), false, 'the old secret no longer verifies');

    const page = await h.request('GET', `/api/v1/webhooks/${res.body.id}/deliveries`, { token: admin });
    assert.equal(page.status, 200);
    assert.deepEqual(problemsWith('WebhookDeliveryList', page.body), []);
    assert.ok(!page.text.includes(res.body.secret) && !page.text.includes(rot.body.secret));
  });
});

describe('GET /webhooks/{id}/deliveries', () => {
  it('pages newest first with an opaque cursor and filters by status', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const { body: hook } = await create(h, { url: URL_OK, events: ['security_event'] });
    const { body: other } = await create(h, { url: URL_OK, events: ['security_event'] });
    const outbox = createWebhookOutbox({ db: h.db });
    const ids = outbox.enqueue([1, 2, 3].map((n) => ({ webhookId: hook.id, eventType: 'security_event', data: { n } })), h.clock.now());
    outbox.enqueue([{ webhookId: other.id, eventType: 'security_event', data: {} }], h.clock.now());
    outbox.markDead(ids[0] as number, { statusCode: 500, error: 'HTTP 500' });

    const url = `/api/v1/webhooks/${hook.id}/deliveries`;
    const p1 = await h.request('GET', `${url}?limit=2`, { token: admin });
    assert.equal(p1.status, 200, p1.text);
    assert.deepEqual(p1.body.items.map((d: { id: number }) => d.id), [ids[2], ids[1]]);
    assert.equal(typeof p1.body.next, 'string');
    const p2 = await h.request('GET', `${url}?limit=2&cursor=${p1.body.next}`, { token: admin });
    assert.deepEqual(p2.body.items.map((d: { id: number }) => d.id), [ids[0]]);
    assert.equal(p2.body.next, null);
    assert.equal(p2.body.items[0].status, 'dead');
    assert.equal(p2.body.items[0].next_attempt_at, null);
    assert.deepEqual(p2.body.items[0].data, { n: 1 });

    const dead = await h.request('GET', `${url}?status=dead`, { token: admin });
    assert.deepEqual(dead.body.items.map((d: { id: number }) => d.id), [ids[0]]);
    for (const q of ['?status=lost', '?cursor=%%%', '?limit=0', '?limit=abc']) {
      const bad = await h.request('GET', `${url}${q}`, { token: admin });
      assert.equal(bad.status, 400, q);
      assert.equal(bad.body.error.code, 'MCM_ERR_VALIDATION', q);
    }
  });
});

describe('refusals record nothing', () => {
  it('refuses every role below admin with 403 and no token with 401', async (t) => {
    const h = await createTestApp(t);
    const { body: hook } = await create(h, { url: URL_OK, events: ['broker_down'] });
    const before = h.eventCount();
    for (const role of ['viewer', 'auditor', 'operator'] as const) {
      const token = await h.tokenFor(role);
      for (const [m, p, body] of [
        ['GET', '/api/v1/webhooks', undefined], ['POST', '/api/v1/webhooks', { url: URL_OK, events: ['broker_up'] }],
        ['GET', `/api/v1/webhooks/${hook.id}`, undefined], ['PUT', `/api/v1/webhooks/${hook.id}`, { enabled: false }],
        ['POST', `/api/v1/webhooks/${hook.id}/rotate-secret`, undefined], ['DELETE', `/api/v1/webhooks/${hook.id}`, undefined],
        ['GET', `/api/v1/webhooks/${hook.id}/deliveries`, undefined],
      ] as const) {
        const res = await h.request(m, p, { token, ...(body === undefined ? {} : { body }) });
        assert.equal(res.status, 403, `${m} ${p} as ${role}`);
        assert.equal(res.body.error.code, 'MCM_ERR_FORBIDDEN');
      }
    }
    const anon = await h.request('POST', '/api/v1/webhooks', { body: { url: URL_OK, events: ['broker_up'] } });
    assert.equal(anon.status, 401);
    assert.equal(h.eventCount(), before);
  });

  it('refuses bad input with 400 and a stable code: unknown event type, bad URL, unknown field', async (t) => {
    const h = await createTestApp(t);
    const before = h.eventCount();
    const cases: [unknown, string][] = [
      [{ url: URL_OK, events: ['everything'] }, 'MCM_ERR_VALIDATION'],
      [{ url: URL_OK, events: [] }, 'MCM_ERR_VALIDATION'],
      [{ url: URL_OK }, 'MCM_ERR_VALIDATION'],
      [{ url: URL_OK, events: ['broker_up'], secret: 'mine' }, 'MCM_ERR_VALIDATION'],
      [{ url: 'not a url', events: ['broker_up'] }, 'MCM_ERR_WEBHOOK_INVALID'],
      [{ url: 'ftp://203.0.113.10/x', events: ['broker_up'] }, 'MCM_ERR_WEBHOOK_INVALID'],
      [{ url: 'https://user:pw@203.0.113.10/x', events: ['broker_up'] }, 'MCM_ERR_WEBHOOK_INVALID'],
      [{ url: 'https://203.0.113.10/x#frag', events: ['broker_up'] }, 'MCM_ERR_WEBHOOK_INVALID'],
    ];
    for (const [body, code] of cases) {
      const res = await create(h, body);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.error.code, code, JSON.stringify(body));
    }
    assert.equal(h.eventCount(), before);
  });

  it('refuses private targets with 400 MCM_ERR_WEBHOOK_PRIVATE_ADDRESS naming webhooks.allow_private (create and update)', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const { body: hook } = await create(h, { url: URL_OK, events: ['broker_down'] });
    const before = h.eventCount();
    // localhost goes through the resolver (the hosts file): a name is checked by its addresses.
    for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/', 'http://10.0.0.5/', 'http://[::ffff:192.168.1.1]/']) {
      const res = await create(h, { url, events: ['broker_down'] });
      assert.equal(res.status, 400, `${url}: ${res.text}`);
      assert.equal(res.body.error.code, 'MCM_ERR_WEBHOOK_PRIVATE_ADDRESS', url);
      assert.match(res.body.error.message, /webhooks\.allow_private/);
      const put = await h.request('PUT', `/api/v1/webhooks/${hook.id}`, { token: admin, body: { url } });
      assert.equal(put.status, 400, url);
      assert.equal(put.body.error.code, 'MCM_ERR_WEBHOOK_PRIVATE_ADDRESS', url);
    }
    assert.equal(h.eventCount(), before);
  });

  it('accepts a private target when config webhooks.allow_private is true', async (t) => {
    const h = await createTestApp(t, { config: (c) => { c.webhooks.allow_private = true; } });
    const res = await create(h, { url: 'http://127.0.0.1:8080/hook', events: ['broker_down'] });
    assert.equal(res.status, 201, res.text);
  });
});
