/**
 * The ws viewers of the load scenario, run in a worker thread (its own event loop, so 200
 * sockets' JSON parsing does not delay the writers and the publisher in the main thread).
 * Each viewer signs in with `Sec-WebSocket-Protocol: mcm.v1, bearer.<jwt>`, narrows itself to
 * the load topics, and for every `topic_message` records the lag from the publisher's send time
 * (in the payload, wall-clock ms) to its arrival here. The hub's `drops` reports (slow-client
 * coalescing, DESIGN §7) are summed, not counted as failures.
 *
 * Commands (load-worker-rpc.ts): `open` → {open, errors}; `window` → the lag since the last
 * window (then reset); `final` → ViewersFinal; `close`.
 */
import { isMainThread, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { newHistogram, record, summary, type Histogram } from './load-stats.ts';
import { serveRpc } from './load-worker-rpc.ts';

export type ViewersInput = { url: string; tokens: string[]; count: number; filter: string; topicPrefix: string };

export type ViewersFinal = {
  lag: Histogram;
  /** topic_message frames received, all viewers. */
  received: number;
  /** Per viewer: fewest and most received. */
  min_per_viewer: number;
  max_per_viewer: number;
  /** Sum over viewers of the hub's last reported drop total. */
  hub_drops: number;
  drop_reports: number;
  /** Closes the scenario did not ask for, by code. */
  unexpected_closes: Record<string, number>;
  errors: string[];
  other_types: Record<string, number>;
  open: number;
};

const wallNow = (): number => performance.timeOrigin + performance.now();

const serve = (input: ViewersInput): void => {
  const total = newHistogram();
  let window = newHistogram();
  const received: number[] = [];
  const dropTotals: number[] = [];
  let dropReports = 0;
  const unexpected: Record<string, number> = {};
  const errors: string[] = [];
  const otherTypes: Record<string, number> = {};
  const sockets: WebSocket[] = [];
  let closing = false;

  const open = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const token = input.tokens[i % input.tokens.length] as string;
      const ws = new WebSocket(input.url, ['mcm.v1', `bearer.${token}`], { handshakeTimeout: 30_000, perMessageDeflate: false });
      received[i] = 0;
      dropTotals[i] = 0;
      let settled = false;
      const done = (): void => { if (!settled) { settled = true; resolve(); } };
      ws.on('message', (data) => {
        let m: any;
        try { m = JSON.parse(data.toString()); } catch { errors.push(`viewer ${i}: a frame that is not JSON`); return; }
        if (m.type === 'topic_message') {
          if (typeof m.topic !== 'string' || !m.topic.startsWith(input.topicPrefix)) return;
          received[i] = (received[i] ?? 0) + 1;
          let sent: number | undefined;
          try { sent = JSON.parse(m.preview).t; } catch { /* counted below */ }
          if (typeof sent !== 'number') { if (errors.length < 50) errors.push(`viewer ${i}: preview without a send time: ${String(m.preview).slice(0, 80)}`); return; }
          const lag = wallNow() - sent;
          record(total, lag);
          record(window, lag);
        } else if (m.type === 'drops') {
          dropReports++;
          dropTotals[i] = m.total as number;
        } else if (m.type === 'subscriptions') {
          done();
        } else {
          otherTypes[m.type] = (otherTypes[m.type] ?? 0) + 1;
        }
      });
      ws.once('open', () => ws.send(JSON.stringify({ subscribe: [input.filter] })));
      ws.on('error', (e) => { if (errors.length < 50) errors.push(`viewer ${i}: ${e.message}`); done(); });
      ws.once('unexpected-response', (_req, res) => { errors.push(`viewer ${i}: HTTP ${res.statusCode}`); done(); });
      ws.on('close', (code) => {
        if (!closing) unexpected[String(code)] = (unexpected[String(code)] ?? 0) + 1;
        done();
      });
      sockets.push(ws);
    });

  const openCount = (): number => sockets.filter((s) => s.readyState === WebSocket.OPEN).length;
  serveRpc({
    open: async () => {
      // A few handshakes at a time: 200 at once would be a burst of JWT checks, not a steady load.
      const BATCH = 20;
      for (let i = 0; i < input.count; i += BATCH) {
        await Promise.all(Array.from({ length: Math.min(BATCH, input.count - i) }, (_, k) => open(i + k)));
      }
      return { open: openCount(), errors: errors.slice(0, 10) };
    },
    window: () => {
      const r = { lag: summary(window), open: openCount() };
      window = newHistogram();
      return r;
    },
    final: (): ViewersFinal => {
      const counts = received.slice(0, input.count);
      return {
        lag: total,
        received: counts.reduce((s, n) => s + n, 0),
        min_per_viewer: counts.length ? Math.min(...counts) : 0,
        max_per_viewer: counts.length ? Math.max(...counts) : 0,
        hub_drops: dropTotals.reduce((s, n) => s + n, 0),
        drop_reports: dropReports,
        unexpected_closes: unexpected,
        errors: errors.slice(0, 20),
        other_types: otherTypes,
        open: openCount(),
      };
    },
    close: () => {
      closing = true;
      for (const ws of sockets) ws.terminate();
      return null;
    },
  });
};

if (!isMainThread) serve(workerData as ViewersInput);
