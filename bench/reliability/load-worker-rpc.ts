/**
 * Request/reply over a worker thread's message port, for the load scenario's workers (viewers,
 * MQTT traffic): each runs on its own event loop, so none of them delays the others' clocks.
 *
 *   worker:  serveRpc({ async final() { return {...}; } })
 *   main:    const w = startRpcWorker(new URL('./load-viewers.ts', import.meta.url), input);
 *            const r = await w.call('final');
 */
import { parentPort, Worker } from 'node:worker_threads';

type Handlers = Record<string, (args: any) => unknown>;

/** Worker side: answers {id, cmd, args} with {id, ok, value} or {id, ok: false, error}. */
export const serveRpc = (handlers: Handlers): void => {
  const port = parentPort;
  if (!port) throw new Error('serveRpc runs in a worker thread');
  port.on('message', async (m: { id: number; cmd: string; args: unknown }) => {
    try {
      const fn = handlers[m.cmd];
      if (!fn) throw new Error(`no such command: ${m.cmd}`);
      port.postMessage({ id: m.id, ok: true, value: await fn(m.args) });
    } catch (e) {
      port.postMessage({ id: m.id, ok: false, error: (e as Error).stack ?? String(e) });
    }
  });
};

export type RpcWorker = {
  call<T>(cmd: string, args?: unknown, timeoutMs?: number): Promise<T>;
  terminate(): Promise<void>;
};

export const startRpcWorker = (url: URL, workerData: unknown): RpcWorker => {
  const worker = new Worker(url, { workerData });
  const waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let next = 0;
  let failed: Error | null = null;
  const failAll = (e: Error): void => {
    failed = e;
    for (const w of waiting.values()) w.reject(e);
    waiting.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => { if (!failed) failAll(new Error(`worker ${url.pathname} exited (${code})`)); });
  worker.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string }) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(new Error(m.error));
  });
  return {
    call: <T>(cmd: string, args?: unknown, timeoutMs = 120_000): Promise<T> => {
      if (failed) return Promise.reject(failed);
      const id = next++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => { waiting.delete(id); reject(new Error(`worker did not answer ${cmd} within ${timeoutMs} ms`)); }, timeoutMs);
        waiting.set(id, {
          resolve: (v) => { clearTimeout(timer); resolve(v as T); },
          reject: (e) => { clearTimeout(timer); reject(e); },
        });
        worker.postMessage({ id, cmd, args });
      });
    },
    terminate: async () => {
      failed ??= new Error('terminated');
      await worker.terminate();
    },
  };
};
