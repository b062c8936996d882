/**
 * The ws hub's handshake checks (DESIGN §7): the browser WebSocket API cannot set an
 * Authorization header, so the token rides in `Sec-WebSocket-Protocol: mcm.v1, bearer.<jwt>`
 * (RFC 6455 §4.1: a comma-separated list of tokens; a JWT's base64url and '.' are all token
 * characters). The token is checked BEFORE the upgrade: a refused client gets a plain HTTP error
 * response and never a WebSocket.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { EventStore } from '../../core/ports.ts';
import { authenticateToken, type Authentication, type SignedInAdmin } from '../http/auth/authenticate.ts';
import type { TokenService } from '../http/auth/jwt.ts';
import type { ApiTokenService } from '../http/auth/api-tokens.ts';
import { HTTP_ERROR_CODES } from '../http/errors.ts';
import type { SecurityEventInput } from '../sqlite/security-events.ts';
import { WS_ERROR_CODES } from './client-messages.ts';

export const WS_SUBPROTOCOL = 'mcm.v1';
export const BEARER_PREFIX = 'bearer.';

/** Close codes in the private range (RFC 6455 §7.4.2); 4401 mirrors HTTP 401. */
export const CLOSE_UNAUTHENTICATED = 4401;

export type Authenticate = (token: string) => Authentication;

/** The REST API's own check (signature, expiry, user exists, not disabled, same tokenVersion). */
export const wsAuthenticator = (deps: Readonly<{ store: Pick<EventStore, 'state'>; tokens: TokenService; apiTokens?: ApiTokenService }>): Authenticate =>
  (token) => authenticateToken(deps.store.state(), deps.tokens, token, deps.apiTokens);

export type OfferedProtocols = Readonly<{ protocols: string[]; token: string | null }>;

/** Splits the header (node joins repeated headers with ", ") into its tokens and finds the bearer one. */
export const offeredProtocols = (header: string | string[] | undefined): OfferedProtocols => {
  const raw = Array.isArray(header) ? header.join(',') : header ?? '';
  const protocols = raw.split(',').map((p) => p.trim()).filter((p) => p !== '');
  const bearer = protocols.find((p) => p.startsWith(BEARER_PREFIX));
  const token = bearer === undefined ? null : bearer.slice(BEARER_PREFIX.length);
  return { protocols, token: token === '' ? null : token };
};

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 503: 'Service Unavailable' };

/**
 * Answers an upgrade request with a plain HTTP error and closes the socket (as ws's own
 * abortHandshake does): the same JSON error body as the REST API (DESIGN §8).
 */
export const refuseUpgrade = (socket: Duplex, status: number, code: string, message: string): void => {
  const body = JSON.stringify({ error: { code, message, details: [] } });
  const head = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    ...(status === 401 ? ['WWW-Authenticate: Bearer realm="mcm"'] : []),
  ];
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
};

export type AdmitDeps = Readonly<{
  path: string;
  authenticate: Authenticate;
  securityLog: { record(input: SecurityEventInput): unknown } | null;
  logger: Pick<Logger, 'error'>;
}>;

/**
 * The handshake checks, in order: the path (404), a bearer token (401), the token itself (401;
 * a bad or revoked one is recorded as a security event, as REST does), the mcm.v1 subprotocol
 * (400). Refuses on the socket and returns null, or returns who is connecting.
 */
export const admitUpgrade = (req: IncomingMessage, socket: Duplex, deps: AdmitDeps): { token: string; admin: SignedInAdmin } | null => {
  socket.on('error', () => { /* a peer gone mid-handshake is not the server's problem */ });
  const path = (req.url ?? '').split('?')[0];
  if (path !== deps.path) {
    refuseUpgrade(socket, 404, HTTP_ERROR_CODES.ROUTE_NOT_FOUND, `no WebSocket endpoint at ${path}`);
    return null;
  }
  const { protocols, token } = offeredProtocols(req.headers['sec-websocket-protocol']);
  if (token === null) {
    refuseUpgrade(socket, 401, HTTP_ERROR_CODES.UNAUTHENTICATED, `sign in first: send the token as Sec-WebSocket-Protocol: ${WS_SUBPROTOCOL}, bearer.<token>`);
    return null;
  }
  const auth = deps.authenticate(token);
  if (!auth.ok) {
    if (auth.reason !== 'expired') {
      try {
        deps.securityLog?.record({
          category: auth.reason === 'revoked' ? 'auth.token_revoked' : 'auth.token_invalid',
          severity: 'warning',
          message: auth.message,
          details: { path, ws: true },
          actor: auth.username ?? null,
          ip: req.socket.remoteAddress ?? null,
        });
      } catch (err) {
        deps.logger.error({ err: (err as Error).message }, 'recording a security event failed');
      }
    }
    refuseUpgrade(socket, 401, HTTP_ERROR_CODES.UNAUTHENTICATED, auth.message);
    return null;
  }
  if (!protocols.includes(WS_SUBPROTOCOL)) {
    refuseUpgrade(socket, 400, WS_ERROR_CODES.SUBPROTOCOL_MISSING, `offer the subprotocol ${WS_SUBPROTOCOL} (Sec-WebSocket-Protocol: ${WS_SUBPROTOCOL}, bearer.<token>)`);
    return null;
  }
  return { token, admin: auth.admin };
};
