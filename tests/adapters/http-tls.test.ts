import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import type { SecureVersion } from 'node:tls';
import type { Config } from '../../adapters/config/config.ts';
import { createHttpServer, HttpServerConfigError, listenHttpServer } from '../../adapters/http/server.ts';
import { createTestApp } from '../helpers/http.ts';
import { tempDir } from '../helpers/temp-dir.ts';

type Pki = { dir: string; ca: Buffer; serverCert: string; serverKey: string; caCert: string; client: { cert: Buffer; key: Buffer }; rogue: { cert: Buffer; key: Buffer } };

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;

/** A CA, a server certificate for 127.0.0.1, a client certificate from the CA and one from another CA. */
const makePki = (t: TestContext): Pki => {
  const dir = tempDir(t, 'mcm-tls-');
  const p = (name: string): string => join(dir, name);
  const ssl = (...args: string[]): void => { execFileSync('openssl', args, { stdio: 'pipe' }); };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ca = (name: string): void => ssl('req', '-x509', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.crt`), '-days', '2', '-subj', `/CN=${name}`);
  const leaf = (name: string, caName: string, ext: string): void => {
    ssl('req', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=${name}`);
    writeFileSync(p(`${name}.ext`), ext);
    ssl('x509', '-req', '-in', p(`${name}.csr`), '-CA', p(`${caName}.crt`), '-CAkey', p(`${caName}.key`), '-CAcreateserial',
      '-out', p(`${name}.crt`), '-days', '2', '-extfile', p(`${name}.ext`));
  };
  ca('test-ca');
  ca('rogue-ca');
  leaf('server', 'test-ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'test-ca', 'extendedKeyUsage=clientAuth\n');
  leaf('rogue', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
  const read = (name: string): Buffer => readFileSync(p(name));
  return {
    dir, ca: read('test-ca.crt'), caCert: p('test-ca.crt'), serverCert: p('server.crt'), serverKey: p('server.key'),
    client: { cert: read('client.crt'), key: read('client.key') },
    rogue: { cert: read('rogue.crt'), key: read('rogue.key') },
  };
};

const serve = async (t: TestContext, tls: Config['http']['tls']): Promise<number> => {
  const h = await createTestApp(t);
  const server: Server = createHttpServer(h.app.callback(), tls);
  const { port } = await listenHttpServer(server, '127.0.0.1', 0);
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }));
  return port;
};

type Got = { ok: true; status: number; headers: Record<string, unknown> } | { ok: false; error: string };

const get = (port: number, pki: Pki, opts: { cert?: Buffer; key?: Buffer; maxVersion?: SecureVersion } = {}): Promise<Got> =>
  new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', ca: pki.ca, agent: false, ...opts }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: true, status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', (err) => resolve({ ok: false, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end();
  });

const tlsConfig = (pki: Pki, extra: Partial<Config['http']['tls']> = {}): Config['http']['tls'] => ({
  cert: pki.serverCert, key: pki.serverKey, min_version: 'TLSv1.2', client_ca: null, client_auth: 'none', ...extra,
});

describe('HTTPS and mTLS [DESIGN §9]', { skip: hasOpenssl ? false : 'openssl is not installed' }, () => {
  it('serves HTTPS with Strict-Transport-Security', async (t) => {
    const pki = makePki(t);
    const port = await serve(t, tlsConfig(pki));
    const res = await get(port, pki);
    assert.ok(res.ok, JSON.stringify(res));
    assert.equal(res.status, 200);
    assert.match(String(res.headers['strict-transport-security']), /max-age=\d+/);
  });

  it('refuses clients below the minimum TLS version', async (t) => {
    const pki = makePki(t);
    const port = await serve(t, tlsConfig(pki, { min_version: 'TLSv1.3' }));
    const old = await get(port, pki, { maxVersion: 'TLSv1.2' });
    assert.equal(old.ok, false);
    const current = await get(port, pki);
    assert.ok(current.ok && current.status === 200);
  });

  it('client_auth required: only a certificate from the client CA gets in', async (t) => {
    const pki = makePki(t);
    const port = await serve(t, tlsConfig(pki, { client_ca: pki.caCert, client_auth: 'required' }));
    assert.equal((await get(port, pki)).ok, false, 'no certificate');
    assert.equal((await get(port, pki, pki.rogue)).ok, false, 'a certificate from another CA');
    const good = await get(port, pki, pki.client);
    assert.ok(good.ok && good.status === 200);
  });

  it('client_auth optional: no certificate is fine, a bad one is refused', async (t) => {
    const pki = makePki(t);
    const port = await serve(t, tlsConfig(pki, { client_ca: pki.caCert, client_auth: 'optional' }));
    const none = await get(port, pki);
    assert.ok(none.ok && none.status === 200);
    const good = await get(port, pki, pki.client);
    assert.ok(good.ok && good.status === 200);
    assert.equal((await get(port, pki, pki.rogue)).ok, false);
  });
});

describe('TLS settings are checked at start [DESIGN §9]', () => {
  const handler = () => {};
  const base: Config['http']['tls'] = { cert: null, key: null, min_version: 'TLSv1.2', client_ca: null, client_auth: 'none' };

  it('a missing certificate file is an error naming the setting and the path', (t) => {
    const dir = tempDir(t);
    const missing = join(dir, 'nope.pem');
    writeFileSync(join(dir, 'key.pem'), 'x');
    assert.throws(() => createHttpServer(handler, { ...base, cert: missing, key: join(dir, 'key.pem') }), (err: unknown) => {
      assert.ok(err instanceof HttpServerConfigError);
      assert.match(err.message, /http\.tls\.cert/);
      assert.ok(err.message.includes(missing));
      assert.match(err.message, /ENOENT/);
      return true;
    });
  });

  it('a certificate without a key, and mTLS without a client CA or without HTTPS, are errors', () => {
    assert.throws(() => createHttpServer(handler, { ...base, cert: '/x.pem' }), /both http\.tls\.cert and http\.tls\.key/);
    assert.throws(() => createHttpServer(handler, { ...base, cert: '/x.pem', key: '/y.pem', client_auth: 'required' }), /client_ca/);
    assert.throws(() => createHttpServer(handler, { ...base, client_auth: 'optional', client_ca: '/ca.pem' }), /need HTTPS/);
  });
});
