/**
 * The webhook signature (issue 5): `X-MCM-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
 * Checked against an independent HMAC computed here, and verifySignature's refusals.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { verifySignature } from '../../adapters/webhooks/dispatcher.ts';
import { signatureHeader } from '../../adapters/webhooks/signature.ts';
import { generateWebhookSecret, openWebhookSecret, sealWebhookSecret } from '../../adapters/webhooks/webhook-secret.ts';
import { createSecretStore } from '../../adapters/secrets/secret-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I';
const BODY = '{"id":7,"type":"broker_down","at":"2026-01-01T00:00:00.000Z","data":{"up":false}}';
const T = 1_767_225_600;

describe('webhook signature', () => {
  it('is t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")> (independent computation)', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    assert.equal(signatureHeader(SECRET, T, BODY), `t=${T},v1=${expected}`);
  });

  it('verifies a header it made, within the tolerance', () => {
    const header = signatureHeader(SECRET, T, BODY);
    assert.equal(verifySignature(SECRET, header, BODY, 300, T), true);
    assert.equal(verifySignature(SECRET, header, BODY, 300, T + 299), true);
    assert.equal(verifySignature(SECRET, ` ${header.replace(',', ' , ')} `, BODY, 300, T), true, 'spaces around parts are tolerated');
  });

  it('accepts any matching v1 among several (rotation on the receiver side)', () => {
    const good = signatureHeader(SECRET, T, BODY).split(',')[1];
    assert.equal(verifySignature(SECRET, `t=${T},v1=${'0'.repeat(64)},${good}`, BODY, 300, T), true);
  });

  it('refuses a changed body, another secret, a stale or future t, and malformed headers', () => {
    const header = signatureHeader(SECRET, T, BODY);
    assert.equal(verifySignature(SECRET, header, BODY.replace('7', '8'), 300, T), false, 'changed body');
    assert.equal(verifySignature('another-secret', header, BODY, 300, T), false, 'another secret');
    assert.equal(verifySignature(SECRET, header, BODY, 300, T + 301), false, 'replayed too late');
    assert.equal(verifySignature(SECRET, header, BODY, 300, T - 301), false, 'from the future');
    // The timestamp is signed: moving it breaks the MAC even within the tolerance.
    assert.equal(verifySignature(SECRET, header.replace(`t=${T}`, `t=${T + 1}`), BODY, 300, T), false, 'moved t');
    for (const bad of [null, undefined, '', 'v1=abc', `t=${T}`, `t=x,v1=${'a'.repeat(64)}`, `t=${T},v1=${'z'.repeat(64)}`, `t=${T},v1=abcd`]) {
      assert.equal(verifySignature(SECRET, bad, BODY, 300, T), false, String(bad));
    }
  });
});

describe('webhook secrets', () => {
  it('are 32 random bytes in base64url, sealed under secrets/webhook.key and opened back', (t) => {
    const secrets = createSecretStore(tempDir(t));
    const secret = generateWebhookSecret();
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(generateWebhookSecret(), secret);
    const sealed = sealWebhookSecret(secrets, secret);
    assert.ok(!sealed.includes(secret));
    assert.match(sealed, /^v1\./);
    assert.equal(secrets.read('webhook.key')?.length, 32);
    assert.equal(openWebhookSecret(secrets, sealed), secret);
  });

  it('cannot be opened with another data dir\'s key', (t) => {
    const sealed = sealWebhookSecret(createSecretStore(tempDir(t)), 'x');
    assert.throws(() => openWebhookSecret(createSecretStore(tempDir(t)), sealed));
  });
});
