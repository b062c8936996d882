/**
 * Arguments the `mcm users` and `mcm acl` subcommands share: the one NAME positional, the
 * password options, and the plain-text table they print.
 */
import { DomainError, ERROR_CODES } from '../../../core/errors.ts';
import { UsageError, type CliIo } from '../command.ts';

/** Longest password the API accepts (docs/openapi.yaml MqttPassword), in characters. */
export const PASSWORD_MAX = 1024;

export const PASSWORD_OPTIONS = {
  password: { type: 'string' },
  'password-stdin': { type: 'boolean' },
} as const;

export const PASSWORD_USAGE = `  --password P        the new password (visible to other users in \`ps\`: prefer --password-stdin)
  --password-stdin    read the password from standard input (one trailing newline is dropped)
  (neither: MCM generates a strong password and prints it once; it is stored only as a hash)
`;

/** The single NAME positional (`mcm users add NAME`), or a usage error naming what is missing. */
export const nameArgument = (positionals: readonly string[], what: string, usage: string): string => {
  const name = positionals[0];
  if (name === undefined) throw new UsageError(`missing ${what}`, usage);
  if (name === '') throw new UsageError(`${what} must not be empty`, usage);
  return name;
};

const tooLong = (p: string): boolean => [...p].length > PASSWORD_MAX;

/**
 * The password the operator chose, or undefined (MCM generates one). Problems with the options
 * are usage errors (64); an empty or oversized password read from stdin is MCM_ERR_VALIDATION (1).
 */
export const passwordInput = async (
  values: { password?: string | undefined; 'password-stdin'?: boolean | undefined },
  io: CliIo,
  usage: string,
): Promise<string | undefined> => {
  if (values.password !== undefined && values['password-stdin']) throw new UsageError('give --password or --password-stdin, not both', usage);
  if (values.password !== undefined) {
    if (values.password === '') throw new UsageError('--password must not be empty (omit it to have one generated)', usage);
    if (tooLong(values.password)) throw new UsageError(`--password must be at most ${PASSWORD_MAX} characters`, usage);
    return values.password;
  }
  if (!values['password-stdin']) return undefined;
  if (!io.stdin) throw new UsageError('--password-stdin: no standard input to read', usage);
  const password = (await io.stdin()).replace(/\r?\n$/, '');
  if (password === '') throw new DomainError(ERROR_CODES.VALIDATION, 'the password read from standard input is empty', [{ field: 'password' }]);
  if (tooLong(password)) {
    throw new DomainError(ERROR_CODES.VALIDATION, `the password read from standard input is longer than ${PASSWORD_MAX} characters`, [{ field: 'password' }]);
  }
  return password;
};

/** The line that shows a generated password, the only time anyone sees it. */
export const generatedPasswordLine = (password: string): string => `generated password (shown only this once): ${password}\n`;

/** Columns padded to the widest cell; the last column is not padded. */
export const formatTable = (rows: readonly (readonly string[])[]): string => {
  const columns = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  return rows.map((r) => r.map((cell, i) => (i < r.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  ').trimEnd() + '\n').join('');
};
