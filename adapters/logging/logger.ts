/**
 * Structured logs (pino, DESIGN §3). Secrets never reach a log line (DESIGN §9): fields named like
 * passwords, hashes, secrets and tokens are censored at the top level and two levels down, and
 * request headers that carry credentials are too.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import type * as PinoPretty from 'pino-pretty';
import { lazyModule } from '../modules/lazy-module.ts';

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
  /**
   * `pretty`: one readable line per entry (pino-pretty); `json`: one JSON object per line.
   * Default: pretty when stdout is a terminal (a person reads it), JSON otherwise (a log
   * collector, systemd's journal, a file). MCM_LOG_FORMAT overrides it.
   */
  format?: 'pretty' | 'json';
}>;

/** The format for this process: MCM_LOG_FORMAT, else pretty on a terminal and JSON elsewhere. */
export const logFormat = (env: NodeJS.ProcessEnv = process.env, tty: boolean = process.stdout.isTTY === true): 'pretty' | 'json' => {
  const v = env['MCM_LOG_FORMAT'];
  if (v === 'pretty' || v === 'json') return v;
  return tty ? 'pretty' : 'json';
};

/** Only a terminal's log is pretty: loaded then (issue 14). */
const pinoPretty = lazyModule<typeof PinoPretty>('pino-pretty');

const prettyStream = (): DestinationStream =>
  pinoPretty().default({ sync: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'hostname,name' });

export const createLogger = (opts: LoggerOptions = {}): Logger =>
  pino(
    {
      level: opts.level ?? 'info',
      name: opts.name ?? 'mcm',
      redact: { paths: [...REDACT_PATHS], censor: '[Redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      base: { pid: process.pid },
    },
    opts.destination ?? ((opts.format ?? logFormat()) === 'pretty' ? prettyStream() : pino.destination({ dest: 1, sync: true })),
  );
