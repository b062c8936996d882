/**
 * The supervised broker's log lines (log_dest stderr, `log_timestamp_format %Y-%m-%dT%H:%M:%S`):
 * a bounded ring buffer plus live listeners. The observer parses connection lines from here
 * (reference §5: "New client connected from …", "Client … disconnected."); the apply loop looks
 * for reload errors after each SIGHUP (reference §3.4 rule 4).
 */

export type BrokerLogLine = Readonly<{
  /** Position in the whole stream since start (monotonic, survives ring eviction). */
  index: number;
  /** The timestamp prefix as printed, or null when the line has none. */
  time: string | null;
  /** The message after the timestamp prefix. */
  message: string;
  raw: string;
}>;

export type BrokerLog = {
  /** Feed raw output chunks; splits lines, keeps a partial last line until it completes. */
  write(chunk: string): void;
  /** Index the next line will get: pass it to `since` to see only lines after now. */
  mark(): number;
  since(mark: number): BrokerLogLine[];
  tail(n?: number): BrokerLogLine[];
  onLine(listener: (line: BrokerLogLine) => void): () => void;
};

const PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}|\d{9,}): (.*)$/s;

export const parseBrokerLogLine = (raw: string, index: number): BrokerLogLine => {
  const m = PREFIX.exec(raw);
  return m ? { index, time: m[1] ?? null, message: m[2] ?? '', raw } : { index, time: null, message: raw, raw };
};

/**
 * Lines that say a reload (or start) went wrong. Mosquitto prints its errors as messages that
 * start with "Error" (`Error: Unable to open acl_file …`, `Error opening acl file …`, reference
 * §3.4); client-level problems are lower case ("Socket error on client …") and don't count.
 */
export const isBrokerErrorLine = (line: BrokerLogLine): boolean => /^Error\b/.test(line.message);

export const createBrokerLog = ({ capacity = 2000 }: { capacity?: number } = {}): BrokerLog => {
  const ring: BrokerLogLine[] = [];
  const listeners = new Set<(line: BrokerLogLine) => void>();
  let next = 0;
  let partial = '';

  const push = (raw: string): void => {
    const line = parseBrokerLogLine(raw, next++);
    ring.push(line);
    if (ring.length > capacity) ring.shift();
    for (const l of [...listeners]) {
      try { l(line); } catch { /* a listener's failure must not stop log intake */ }
    }
  };

  return {
    write(chunk) {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) {
        const raw = p.endsWith('\r') ? p.slice(0, -1) : p;
        if (raw.length > 0) push(raw);
      }
    },
    mark: () => next,
    since: (mark) => ring.filter((l) => l.index >= mark),
    tail: (n = 50) => ring.slice(-n),
    onLine(listener) {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },
  };
};
