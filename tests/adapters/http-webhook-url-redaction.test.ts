/**
 * Webhook URLs often carry a token (issue "second hardening round": integrity and redaction):
 * roles below admin see only the origin of a webhook's URL in `GET /events` and
 * `GET /audit-events`; admins, who manage webhooks, see it whole.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTestApp } from '../helpers/http.ts';

const SECRET_URL = 'https://203.0.113.10:8443/services/T0KEN-in-path/hook?token=T0KEN-in-query';
const CHANGED_URL = 'https://203.0.113.11/other/T0KEN-two';

describe('webhook URLs in the event log and the audit view', () => {
  it('given a webhook created and changed with tokens in its URLs, an auditor sees only origins and an admin sees them whole', async (t) => {
    const h = await createTestApp(t);
    const admin = await h.tokenFor('admin');
    const created = await h.request('POST', '/api/v1/webhooks', { token: admin, body: { url: SECRET_URL, events: ['apply_failed'] } });
    assert.equal(created.status, 201, created.text);
    const changed = await h.request('PUT', `/api/v1/webhooks/${created.body.id}`, { token: admin, body: { url: CHANGED_URL } });
    assert.equal(changed.status, 200, changed.text);

    const auditor = await h.tokenFor('auditor');
    for (const path of ['/api/v1/events?limit=100', '/api/v1/audit-events?limit=100']) {
      const asAuditor = await h.request('GET', path, { token: auditor });
      assert.equal(asAuditor.status, 200, asAuditor.text);
      assert.doesNotMatch(asAuditor.text, /T0KEN/, `${path} as auditor`);
      assert.match(asAuditor.text, /"url":"https:\/\/203\.0\.113\.10:8443"/, `${path} shows the origin`);
      assert.match(asAuditor.text, /"url":"https:\/\/203\.0\.113\.11"/, `${path} shows the changed origin`);

      const asAdmin = await h.request('GET', path, { token: admin });
      assert.equal(asAdmin.status, 200, asAdmin.text);
      assert.ok(asAdmin.text.includes(JSON.stringify(SECRET_URL).slice(1, -1).replaceAll('/', '/')), `${path} as admin shows the full URL`);
      assert.match(asAdmin.text, /T0KEN-two/);
    }
  });
});
