/**
 * Structured logs (pino, DESIGN §3). Secrets never reach a log line (DESIGN §9): fields named like
 * passwords, hashes, secrets and tokens are censored at the top level and two levels down, and
 * request headers that carry credentials are too.
 */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

const SECRET_FIELDS = ['password', 'passwordHash', 'password_hash', 'hash', 'secret', 'secretCiphertext', 'token', 'recoveryCodeHashes', 'mfa_challenge'];

/** pino redact paths: `f`, `*.f`, `*.*.f` for each secret field, plus credential headers. */
export const REDACT_PATHS: readonly string[] = [
  ...SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'headers.authorization',
  'headers.cookie',
];

export type LoggerOptions = Readonly<{
  level?: string;
  name?: string;
  /** Where lines go (tests pass a stream); default stdout. */
  destination?: DestinationStream;
}>;

export const createLogger = (opts: LoggerOptions = {}): Logger =>
  pino(
    {
      level: opts.level ?? 'info',
      name: opts.name ?? 'mcm',
      redact: { paths: [...REDACT_PATHS], censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: true }),
  );
