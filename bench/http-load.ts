/**
 * What the HTTP benches (http.bench.ts, writes.bench.ts) share: autocannon and its types, the
 * POST /api/v1/acls load (a distinct rule per request), the server child (this bench file run
 * with a flag, printing its endpoints as one JSON line), and MCM-vs-bare rounds reported by their
 * median ratio.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';

export type AutocannonResult = {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Responses per status class ('1xx' … '5xx'). */
  statusCodeStats?: Record<string, { count: number }>;
};
export type AutocannonRequest = { method?: string; path?: string; headers?: Record<string, string>; body?: string; setupRequest?: (r: AutocannonRequest) => AutocannonRequest };
export type AutocannonOptions = {
  url: string; connections: number; duration: number; pipelining?: number;
  method?: string; headers?: Record<string, string>; body?: string; requests?: AutocannonRequest[];
};
/** A load: everything but how many connections and for how long. */
export type Load = Omit<AutocannonOptions, 'connections' | 'duration'>;

const require = createRequire(import.meta.url);
export const autocannon = require('autocannon') as (opts: AutocannonOptions) => Promise<AutocannonResult>;

/**
 * POST /api/v1/acls, each request a new rule: adding the same rule twice is refused
 * (MCM_ERR_ACL_RULE_EXISTS). `principal(n)` names the n-th request's principal.
 */
export const aclRequests = (token: string, principal: (n: number) => string = () => 'anonymous'): AutocannonRequest[] => {
  let n = 0;
  return [{
    method: 'POST',
    path: '/api/v1/acls',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    setupRequest: (r) => {
      const i = n++;
      return { ...r, body: JSON.stringify({ principal: principal(i), topic: `bench/${process.pid}/${i}`, access: 'read' }) };
    },
  }];
};

/** Listens on a free loopback port; resolves with the base URL. */
export const listen = (server: Server): Promise<string> => new Promise((resolve) => {
  server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
});

/** The request's body parsed as JSON (bare servers). */
export const readJson = (req: IncomingMessage): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('error', reject);
  req.on('end', () => {
    try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>); } catch (e) { reject(e as Error); }
  });
});

export type ServerChild<T> = { child: ChildProcess; endpoints: T; stop(): Promise<void> };

/**
 * Runs `file` with `args` in a child node (so the load generator and the server don't share an
 * event loop) and resolves with the JSON line it prints first. The child stops when its stdin
 * ends (or on SIGTERM); `stop()` ends stdin and waits for the exit (SIGKILL after `graceMs`).
 */
export const startServerChild = async <T>(file: string, args: readonly string[], opts: { nodeArgs?: readonly string[]; graceMs?: number } = {}): Promise<ServerChild<T>> => {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), file, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const endpoints = await new Promise<T>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench server ${args.join(' ')} exited with ${code}`)));
    // The endpoints are the first JSON object line; anything else the child prints goes to stderr.
    const onLine = (line: string): void => {
      if (!line.startsWith('{')) { process.stderr.write(`${line}\n`); return; }
      lines.off('line', onLine);
      resolve(JSON.parse(line) as T);
    };
    lines.on('line', onLine);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.graceMs ?? 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { child, endpoints, stop };
};

/** A server child's side of startServerChild: runs `stop` once stdin ends or on SIGTERM, then exits. */
export const stopOnStdinEnd = (stop: () => void | Promise<void>): void => {
  let stopping = false;
  const once = (): void => {
    if (stopping) return;
    stopping = true;
    void Promise.resolve().then(stop).finally(() => process.exit(0));
  };
  process.stdin.on('end', once);
  process.stdin.resume();
  process.on('SIGTERM', once);
};

export type Round = { mcm: AutocannonResult; bare: AutocannonResult; ratio: number };
export type Comparison<E> = Round & {
  /** Every round, in the order run, with what `afterMcm` returned for it. */
  rounds: (Round & { after: E })[];
  /** non-2xx + errors + timeouts of MCM over every round. */
  errors: number;
};

/**
 * The machine may be shared: MCM and bare alternate in `rounds` runs of `seconds` after a 1 s
 * warm-up of each (JIT, connections, caches), and the round with the median ratio is reported,
 * so a burst of outside load hits both sides instead of one. `afterMcm` runs after every MCM run
 * (warm-up included), before the bare one starts.
 */
export const compareRounds = async <E = undefined>(o: {
  label: string; mcm: Load; bare: Load; rounds: number; seconds: number; connections: number;
  log: (line: string) => void; afterMcm?: (round: number | 'warm-up') => Promise<E>;
}): Promise<Comparison<E>> => {
  const measure = (side: string, load: Load, seconds: number): Promise<AutocannonResult> => {
    o.log(`  ${o.label}: ${side} (${seconds}s, ${o.connections} connections)…`);
    return autocannon({ ...load, connections: o.connections, duration: seconds });
  };
  await measure('warm-up MCM', o.mcm, 1);
  await o.afterMcm?.('warm-up');
  await measure('warm-up bare', o.bare, 1);
  const rounds: (Round & { after: E })[] = [];
  for (let i = 0; i < o.rounds; i++) {
    const mcm = await measure(`MCM, round ${i + 1}/${o.rounds}`, o.mcm, o.seconds);
    const after = (await o.afterMcm?.(i + 1)) as E;
    const bare = await measure(`bare node:http, round ${i + 1}/${o.rounds}`, o.bare, o.seconds);
    rounds.push({ mcm, bare, ratio: mcm.requests.average / bare.requests.average, after });
  }
  const median = [...rounds].sort((a, b) => a.ratio - b.ratio)[Math.floor(rounds.length / 2)]!;
  const errors = rounds.reduce((n, r) => n + r.mcm.non2xx + r.mcm.errors + r.mcm.timeouts, 0);
  return { mcm: median.mcm, bare: median.bare, ratio: median.ratio, rounds, errors };
};
