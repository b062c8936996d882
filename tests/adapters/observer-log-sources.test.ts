/**
 * Where the connection lines come from (DESIGN §7, reference §5): the supervised broker's output,
 * a log file followed with chokidar, or `$SYS/broker/log/#` with `log_dest topic`. Each feeds the
 * clients table; lines from before MCM started are replayed silently.
 */
import assert from 'node:assert/strict';
import { appendFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { defaultConfig } from '../../adapters/config/defaults.ts';
import { createLiveBus, type LiveMessage } from '../../adapters/live/live-bus.ts';
import { createBrokerLog } from '../../adapters/mosquitto/broker-log.ts';
import { createLogSource, lineTime, type LogSource, type LogSourceDeps } from '../../adapters/mqtt/log-sources.ts';
import { createClientsTable, type ClientsTable } from '../../adapters/observer/clients-table.ts';
import { requireMosquitto, startMosquitto, type Broker } from '../helpers/mosquitto.ts';
import { tempDir } from '../helpers/temp-dir.ts';
import { connectClient, endClient, startBroker, startObserver, waitFor, writeBrokerFiles } from './observer-setup.ts';

const silent = { info() {}, warn() {} };

type Harness = { source: LogSource; clients: ClientsTable; seen: LiveMessage[] };

const harness = (t: TestContext, over: Partial<LogSourceDeps> & { logFile?: string | null } = {}): Harness => {
  const bus = over.bus ?? createLiveBus();
  const seen: LiveMessage[] = [];
  bus.subscribe((m) => seen.push(m));
  const clock = { now: () => new Date().toISOString() };
  const clients = createClientsTable({ bus, clock });
  const config = defaultConfig({ mosquittoBinary: null });
  config.observer.log_file = over.logFile ?? null;
  const source = createLogSource({ config, brokerLog: over.brokerLog ?? null, clients, bus, clock, logger: silent });
  t.after(() => source.stop());
  return { source, clients, seen };
};

const ids = (c: ClientsTable): string[] => c.list().map((x) => x.client_id);

describe('log source: the supervised broker\'s output', () => {
  it('replays what the broker printed before, silently, then follows connects and disconnects live', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const files = await writeBrokerFiles(t);
    const broker = await startBroker(t, bin, files);
    const early = await connectClient(t, broker.port, { clientId: 'early bird (1)' });
    await broker.waitForLog('as early bird (1)');
    // What the supervisor does: every stderr chunk into the BrokerLog.
    const brokerLog = createBrokerLog();
    brokerLog.write(broker.log());
    broker.child.stderr?.on('data', (b: Buffer) => brokerLog.write(b.toString()));

    const h = harness(t, { brokerLog });
    await h.source.start();
    assert.equal(h.source.kind, 'broker-log');
    assert.deepEqual(ids(h.clients), ['early bird (1)']);
    assert.equal(h.seen.length, 0, 'history is replayed without pushing anything');

    const late = await connectClient(t, broker.port, { clientId: 'late', protocolVersion: 5 });
    await waitFor(() => ids(h.clients).includes('late'), 'the late client in the table');
    assert.equal(h.clients.get('late')?.protocol, 'mqtt v5');
    assert.equal(h.clients.get('late')?.username, 'alice');
    assert.ok(h.seen.some((m) => m.type === 'client_connected' && m.client.client_id === 'late'));
    assert.ok(h.seen.some((m) => m.type === 'broker_log' && m.line.includes('as late')));

    await endClient(early);
    late.stream.destroy();
    await waitFor(() => h.clients.size() === 0, 'both clients gone');
    assert.deepEqual(h.clients.recent().map((r) => [r.client_id, r.reason]).sort(), [['early bird (1)', 'disconnected'], ['late', 'connection closed']]);
  });
});

describe('log source: a log file (log_dest file)', () => {
  it('follows the real broker\'s log file, replaying the lines already in it', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const files = await writeBrokerFiles(t);
    const logFile = join(files.dir, 'mosquitto.log');
    const broker = await startBroker(t, bin, files, [`log_dest file ${logFile}`]);
    await connectClient(t, broker.port, { clientId: 'before' });
    await broker.waitForLog('as before');
    const h = harness(t, { logFile });
    await h.source.start();
    assert.equal(h.source.kind, 'file');
    await waitFor(() => ids(h.clients).includes('before'), 'the replayed client');
    const after = await connectClient(t, broker.port, { clientId: 'after' });
    await waitFor(() => ids(h.clients).includes('after'), 'the client that connected after the source started');
    await endClient(after);
    await waitFor(() => !ids(h.clients).includes('after'), 'its disconnect');
  });

  it('starts over when the file is truncated (copytruncate rotation)', async (t) => {
    const dir = tempDir(t);
    const logFile = join(dir, 'broker.log');
    writeFileSync(logFile, "1764045254: New client connected from 127.0.0.1:1 as a (p2, c1, k60).\n");
    const h = harness(t, { logFile });
    await h.source.start();
    assert.deepEqual(ids(h.clients), ['a']);
    truncateSync(logFile, 0);
    appendFileSync(logFile, "1764045255: New client connected from 127.0.0.1:2 as b (p2, c1, k60).\n");
    await waitFor(() => ids(h.clients).includes('b'), 'the line written after the truncation');
    appendFileSync(logFile, '1764045256: Client a disconnected.\n');
    await waitFor(() => !ids(h.clients).includes('a'), 'a later line');
  });

  it('dates replayed lines by their own timestamp (epoch seconds, or the broker\'s local time)', () => {
    assert.equal(lineTime('1764045254: x'), '2025-11-25T04:34:14.000Z');
    assert.equal(lineTime('2026-11-25T04:34:23: x'), new Date('2026-11-25T04:34:23').toISOString());
    assert.equal(lineTime('no time'), undefined);
  });
});

describe('log source: $SYS/broker/log/# (log_dest topic)', () => {
  it('reads the lines the observer receives, and empties the table when the observer reconnects after the broker restarted', async (t) => {
    const bin = requireMosquitto(t);
    if (!bin) return;
    const files = await writeBrokerFiles(t);
    const extra = ['log_dest topic'];
    const broker: Broker = await startBroker(t, bin, files, extra);
    const bus = createLiveBus();
    const h = harness(t, { bus });
    assert.equal(h.source.kind, 'sys-topic');
    await h.source.start();
    const { observer } = startObserver(t, broker.port, { bus, sysLogLine: h.source.sysLogLine ?? undefined });
    await waitFor(() => observer.connected(), 'the observer to connect');
    const c = await connectClient(t, broker.port, { clientId: 'via topic' });
    await waitFor(() => ids(h.clients).includes('via topic'), 'the client seen through $SYS/broker/log');
    c.removeAllListeners('error');
    c.on('error', () => {});

    await broker.stop();
    await waitFor(() => !observer.connected(), 'the observer to notice');
    await startMosquitto(t, bin, { dir: files.dir, port: broker.port, lines: ['allow_anonymous false', `password_file ${files.passwd}`, `acl_file ${files.acl}`, ...extra] });
    await waitFor(() => observer.connected(), 'the observer to reconnect');
    assert.deepEqual(ids(h.clients), []);
    // The broker's own "terminating" line usually arrives before the connection drops; if it was
    // missed, the reconnect empties the table anyway.
    assert.match(h.clients.recent()[0]?.reason ?? '', /broker stopped|missed while the observer was disconnected/);
  });
});
