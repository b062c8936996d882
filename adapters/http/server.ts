/**
 * The listening socket (DESIGN §9: optional HTTPS and mTLS). Plain HTTP by default; with
 * http.tls.cert and .key, HTTPS with a minimum TLS version; with a client CA, client
 * certificates are requested — `required` refuses a handshake without a valid one, `optional`
 * accepts a connection without a certificate but refuses one with an invalid certificate.
 * Files are read at start: a missing or unreadable file is an error naming the key and the path.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttp, type RequestListener, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Config } from '../config/config.ts';

export class HttpServerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpServerConfigError';
  }
}

const readTlsFile = (key: string, path: string): Buffer => {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new HttpServerConfigError(`http.tls.${key}: cannot read ${path} (${code}): check the path and that MCM's user may read it`);
  }
};

export type TlsConfig = Config['http']['tls'];

export const isTlsEnabled = (tls: TlsConfig): boolean => tls.cert !== null || tls.key !== null;

/** An http.Server or https.Server (a subclass) running `handler`; call listenHttpServer to start it. */
export const createHttpServer = (handler: RequestListener, tls: TlsConfig): Server => {
  if (!isTlsEnabled(tls)) {
    if (tls.client_auth !== 'none' || tls.client_ca !== null) {
      throw new HttpServerConfigError('http.tls.client_ca / client_auth need HTTPS: set http.tls.cert and http.tls.key as well');
    }
    return createHttp(handler);
  }
  if (tls.cert === null || tls.key === null) {
    throw new HttpServerConfigError('HTTPS needs both http.tls.cert and http.tls.key');
  }
  if (tls.client_auth !== 'none' && tls.client_ca === null) {
    throw new HttpServerConfigError(`http.tls.client_auth is ${tls.client_auth}: set http.tls.client_ca to the CA that signs client certificates`);
  }
  const mtls = tls.client_auth !== 'none';
  const server = createHttps({
    cert: readTlsFile('cert', tls.cert),
    key: readTlsFile('key', tls.key),
    minVersion: tls.min_version,
    ...(mtls && tls.client_ca !== null
      ? { ca: readTlsFile('client_ca', tls.client_ca), requestCert: true, rejectUnauthorized: tls.client_auth === 'required' }
      : {}),
  }, handler);
  if (tls.client_auth === 'optional') {
    // Node lets an unverified certificate through when rejectUnauthorized is false; "optional"
    // means no certificate is fine, a bad one is not.
    server.on('secureConnection', (socket: TLSSocket) => {
      const presented = Object.keys(socket.getPeerCertificate() ?? {}).length > 0;
      if (presented && !socket.authorized) socket.destroy();
    });
  }
  return server;
};

/** Listens and resolves with the bound address (port 0 → the chosen port). */
export const listenHttpServer = (server: Server, host: string, port: number): Promise<AddressInfo> =>
  new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
