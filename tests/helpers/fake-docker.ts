/**
 * A tiny fake of the Docker Engine API on a unix socket, enough for the `docker` reload strategy:
 * `POST /containers/{id}/kill?signal=SIG` → 204 (and a real signal to the mapped pid), 404 for an
 * unknown container, 409 when the mapped process is gone — the statuses the real API uses.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

export type FakeDocker = { socket: string; requests: { method: string; url: string }[] };

export const startFakeDocker = async (t: TestContext, dir: string, containers: Record<string, number>): Promise<FakeDocker> => {
  const socket = join(dir, 'docker.sock');
  const requests: { method: string; url: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '' });
    const url = new URL(req.url ?? '/', 'http://docker');
    const m = /^\/containers\/([^/]+)\/kill$/.exec(url.pathname);
    const reply = (status: number, body?: object): void => {
      res.writeHead(status, body ? { 'content-type': 'application/json' } : {});
      res.end(body ? JSON.stringify(body) : undefined);
    };
    if (req.method !== 'POST' || !m) return reply(404, { message: 'page not found' });
    const id = decodeURIComponent(m[1] ?? '');
    const pid = containers[id];
    if (pid === undefined) return reply(404, { message: `No such container: ${id}` });
    try {
      process.kill(pid, (url.searchParams.get('signal') ?? 'SIGKILL') as NodeJS.Signals);
    } catch {
      return reply(409, { message: `Container ${id} is not running` });
    }
    reply(204);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { socket, requests };
};
