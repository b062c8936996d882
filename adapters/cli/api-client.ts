/**
 * The CLI's way into a running server (DESIGN §8): the server's REST API at the url of its lock
 * file, authenticated with the local CLI token from `<data dir>/secrets/cli.token`. An error
 * answer `{error: {code, message, details}}` becomes a DomainError with that code, so the CLI
 * reports it exactly as it reports its own (`mcm: MCM_ERR_…: message`, exit 1).
 */
import { X509Certificate } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkServerIdentity, rootCertificates, type PeerCertificate } from 'node:tls';
import { DomainError, type ErrorDetail } from '../../core/errors.ts';
import { CLI_TOKEN_PREFIX, CLI_TOKEN_SECRET, CLI_USER_HEADER, readCliToken } from '../http/auth/cli-token.ts';
import { createSecretStore } from '../secrets/secret-store.ts';
import type { ServerInfo } from './server-lock.ts';

/** Codes of the CLI → server path itself (the server's own codes pass through unchanged). */
export const API_CLIENT_ERROR_CODES = {
  SERVER_UNREACHABLE: 'MCM_ERR_SERVER_UNREACHABLE',
  CLI_TOKEN_UNREADABLE: 'MCM_ERR_CLI_TOKEN_UNREADABLE',
  SERVER_RESPONSE_INVALID: 'MCM_ERR_SERVER_RESPONSE_INVALID',
} as const;

export const API_PREFIX = '/api/v1';

export type ApiResponse = { status: number; body: unknown };

export type ApiClient = Readonly<{
  baseUrl: string;
  /** `path` below /api/v1 (`/mqtt-users`); `body` is sent as JSON. Throws DomainError on 4xx/5xx. */
  request(method: string, path: string, body?: unknown, extraHeaders?: Readonly<Record<string, string>>): Promise<ApiResponse>;
}>;

export type ApiClientOptions = Readonly<{
  baseUrl: string;
  token: string;
  /** Recorded by the server as the actor id. */
  user: string;
  /**
   * The server's certificate (config http.tls.cert) for an https url: trusted as is, whatever
   * name it carries, since the CLI reaches the server on its own address (often 127.0.0.1).
   */
  serverCert?: Buffer | null;
  timeoutMs?: number;
}>;

/** A server bound to every interface is reached on loopback. */
export const clientUrl = (url: string): URL => {
  const u = new URL(url.replace(/\/+$/, ''));
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  if (u.hostname === '[::]') u.hostname = '[::1]';
  return u;
};

const tlsOptions = (serverCert: Buffer | null | undefined): RequestOptions => {
  if (!serverCert) return {};
  const pinned = new X509Certificate(serverCert).fingerprint256;
  return {
    ca: [...rootCertificates, serverCert.toString('utf8')],
    checkServerIdentity: (host: string, cert: PeerCertificate) => (cert.fingerprint256 === pinned ? undefined : checkServerIdentity(host, cert)),
  } as RequestOptions;
};

const readBody = (res: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });

const errorOf = (status: number, text: string, where: string): DomainError => {
  try {
    const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
    if (e && typeof e.code === 'string' && typeof e.message === 'string') {
      return new DomainError(e.code, e.message, Array.isArray(e.details) ? (e.details as ErrorDetail[]) : []);
    }
  } catch { /* not JSON: reported below */ }
  return new DomainError(API_CLIENT_ERROR_CODES.SERVER_RESPONSE_INVALID, `${where} answered HTTP ${status} without an MCM error body`, [{ status }]);
};

export const createApiClient = (opts: ApiClientOptions): ApiClient => {
  const base = clientUrl(opts.baseUrl);
  const baseUrl = base.toString().replace(/\/+$/, '');
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
  const tls = base.protocol === 'https:' ? tlsOptions(opts.serverCert) : {};
  const timeoutMs = opts.timeoutMs ?? 30_000;

  const request = (method: string, path: string, body?: unknown, extraHeaders: Readonly<Record<string, string>> = {}): Promise<ApiResponse> => {
    const url = new URL(`${baseUrl}${API_PREFIX}${path}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${CLI_TOKEN_PREFIX}${opts.token}`,
      // A header value must be printable ASCII; the server records anything else as "cli".
      [CLI_USER_HEADER]: /^[\x21-\x7e]{1,64}$/.test(opts.user) ? opts.user : 'cli',
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      ...extraHeaders,
    };
    const where = `the MCM server at ${baseUrl}`;
    return new Promise<ApiResponse>((resolve, reject) => {
      const req = send(url, { method, headers, ...tls }, (res) => {
        readBody(res).then((text) => {
          const status = res.statusCode ?? 0;
          if (status >= 400) return reject(errorOf(status, text, where));
          const isJson = /^application\/(.+\+)?json/.test(res.headers['content-type'] ?? '');
          if (text === '' || !isJson) return resolve({ status, body: text === '' ? null : text });
          try {
            resolve({ status, body: JSON.parse(text) as unknown });
          } catch {
            reject(new DomainError(API_CLIENT_ERROR_CODES.SERVER_RESPONSE_INVALID, `${where} answered invalid JSON`, [{ status }]));
          }
        }, reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      req.on('error', (err: NodeJS.ErrnoException) => {
        reject(new DomainError(API_CLIENT_ERROR_CODES.SERVER_UNREACHABLE,
          `${where} (it holds this data dir) did not answer: ${err.code ?? err.message}${err.code ? ` (${err.message})` : ''}`,
          [{ url: baseUrl }]));
      });
      req.end(payload);
    });
  };

  return { baseUrl, request };
};

/**
 * A client for the server that holds `dataDir`, with the token it wrote at its start. A token
 * that cannot be read is a clear error: mcm must run as the server's OS user (the file is 0600).
 */
export const connectToServer = (dataDir: string, info: ServerInfo, opts: { user: string; serverCert?: Buffer | null }): ApiClient => {
  const secrets = createSecretStore(dataDir);
  let token: string | null;
  try {
    token = readCliToken(secrets);
  } catch (e) {
    throw new DomainError(API_CLIENT_ERROR_CODES.CLI_TOKEN_UNREADABLE,
      `an MCM server (pid ${info.pid}) runs on this data dir, but its CLI token ${secrets.path(CLI_TOKEN_SECRET)} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)}): run mcm as the user that runs the server`,
      [{ pid: info.pid, url: info.url }]);
  }
  if (token === null) {
    throw new DomainError(API_CLIENT_ERROR_CODES.CLI_TOKEN_UNREADABLE,
      `an MCM server (pid ${info.pid}) runs on this data dir, but it wrote no CLI token at ${secrets.path(CLI_TOKEN_SECRET)}`,
      [{ pid: info.pid, url: info.url }]);
  }
  return createApiClient({ baseUrl: info.url, token, user: opts.user, ...(opts.serverCert === undefined ? {} : { serverCert: opts.serverCert }) });
};
