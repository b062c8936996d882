/**
 * An oversized body gets a 413 the client can read (issue "second hardening round"): before, the
 * server answered and closed while the client was still sending, and fetch saw EPIPE/ECONNRESET
 * instead of the answer more often than not. Now the rest of the body is drained (up to a bound)
 * first. 5 of 5 tries, with and without a Content-Length, must read the 413 and its error code.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { createTestApp } from '../helpers/http.ts';

/** A raw POST, so a reset is seen as the error it is (no retries, no helper in between). */
const post = (url: string, token: string, body: Buffer, chunked: boolean): Promise<{ status: number; text: string }> =>
  new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`, 'content-type': 'application/json',
        ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) }),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    // In pieces, as a real client on a real network sends a few megabytes.
    let offset = 0;
    const next = (): void => {
      while (offset < body.length) {
        const piece = body.subarray(offset, offset + 64 * 1024);
        offset += piece.length;
        if (!req.write(piece)) { req.once('drain', next); return; }
      }
      req.end();
    };
    next();
  });

describe('413 for an oversized body', () => {
  for (const chunked of [false, true]) {
    it(`is read by the client 5 times out of 5 (${chunked ? 'chunked' : 'Content-Length'})`, async (t) => {
      const h = await createTestApp(t);
      const token = await h.tokenFor('admin');
      const limit = h.config.http.body_limit_bytes;
      const body = Buffer.from(JSON.stringify({ username: 'x', description: 'y'.repeat(limit * 3) }));
      const before = h.eventCount();
      for (let i = 0; i < 5; i++) {
        const r = await post(`${h.baseUrl}/api/v1/mqtt-users`, token, body, chunked);
        assert.equal(r.status, 413, r.text);
        assert.equal((JSON.parse(r.text) as { error: { code: string } }).error.code, 'MCM_ERR_BODY_TOO_LARGE');
      }
      assert.equal(h.eventCount(), before);
    });
  }
});
