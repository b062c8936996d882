/**
 * The C string handling Mosquitto's file readers use (fgets, isspace, strtok_r on " "), so the
 * import parsers split a line exactly where the broker does (reference §1.1, §2.1).
 */

/** The file's lines, 1-based by index + 1; a final newline ends the last line (it adds none). */
export const splitLines = (text: string): string[] => {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
};

/** C `isspace` in the C locale: space, \t, \n, \v, \f, \r. */
export const isCSpace = (ch: string | undefined): boolean =>
  ch === ' ' || ch === '\t' || ch === '\n' || ch === '\v' || ch === '\f' || ch === '\r';

export const trimEndC = (s: string): string => {
  let end = s.length;
  while (end > 0 && isCSpace(s[end - 1])) end--;
  return end === s.length ? s : s.slice(0, end);
};

/** Leading and trailing isspace, as `misc__trimblanks` and the password reader trim. */
export const trimC = (s: string): string => {
  let start = 0;
  while (start < s.length && isCSpace(s[start])) start++;
  return trimEndC(start === 0 ? s : s.slice(start));
};

/**
 * `strtok_r(str, " ", &save)` from `pos`: skips spaces, returns the token up to the next space
 * and the position just past that space (where the broker's save pointer points), or null.
 */
export const spaceToken = (s: string, pos: number): { token: string; next: number } | null => {
  let i = pos;
  while (i < s.length && s[i] === ' ') i++;
  if (i >= s.length) return null;
  const end = s.indexOf(' ', i);
  if (end < 0) return { token: s.slice(i), next: s.length };
  return { token: s.slice(i, end), next: end + 1 };
};

/** `strtok_r(NULL, "", &save)`: the rest of the line, or null when nothing is left. */
export const restOfLine = (s: string, pos: number): string | null => (pos < s.length ? s.slice(pos) : null);

export const BOM = '\uFEFF';
