/**
 * Sparkplug B session tracking (DESIGN §7) from observed traffic: node and device births and
 * deaths, bdSeq, seq gaps, stale nodes, the latest metric values (named through the births'
 * aliases), and the host applications' STATE. Observe-only: MCM never sends a rebirth request.
 * Memory is bounded (nodes, devices per node, metrics per session); overflow is counted.
 *
 * Rules followed (Sparkplug 3.0):
 * - NBIRTH starts a node session: its `bdSeq` metric identifies the session and the MQTT Will
 *   (the NDEATH) carries the same number [tck-id-topics-nbirth-bdseq-matching]; an NDEATH with a
 *   different bdSeq is a late Will of an earlier connection and does not end the current session.
 * - NDEATH marks the node and all its devices offline and their metrics stale
 *   [tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-offline, -devices-offline].
 * - Every message from an edge node but NDEATH carries a seq that grows by one per message across
 *   N* and D* messages, 255 wrapping to 0 [tck-id-payloads-sequence-num-incrementing]; NBIRTH
 *   restarts it. A jump is a seq gap (counted; a host would request a rebirth).
 * - NCMD/DCMD come from host applications: counted, and they do not keep a node alive.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../core/ports.ts';
import type { LiveBus } from '../live/live-bus.ts';
import type { MessageProcessor, ObservedMessage } from '../live/observed-message.ts';
import { bdSeqOf, createSparkplugDecoder, hostOnline, type DecodedPayload } from './sparkplug-payload.ts';
import {
  applyBirth, applyData, declaredType, markStale, newDevice, newNode,
  type DeviceSession, type HostState, type MetricTable, type NodeSession, type TableProblems,
} from './sparkplug-sessions.ts';
import { classifySparkplugTopic, inSparkplugNamespace, type SparkplugTopic } from './sparkplug-topic.ts';
import { deviceState, nodeState, nodesView, zeroCounters, type SparkplugCounters, type SparkplugNodesView } from './sparkplug-view.ts';

export type SparkplugTrackerDeps = {
  bus: LiveBus;
  clock: Clock;
  logger: Pick<Logger, 'warn'>;
  /** An online node silent for this long is stale (default 5 minutes: Sparkplug reports by exception). */
  staleAfterMs?: number;
  /** How often start() checks for stale nodes (default 5 s). */
  checkIntervalMs?: number;
  maxNodes?: number;
  maxDevicesPerNode?: number;
  maxMetricsPerSession?: number;
  maxHosts?: number;
};

export type SparkplugTracker = MessageProcessor & {
  /** The view behind `GET /api/v1/sparkplug/nodes` (stale nodes are marked first). */
  nodes(): SparkplugNodesView;
  counters(): SparkplugCounters;
  /** Marks online nodes silent for staleAfterMs as stale, publishing `sparkplug_state`. */
  checkStale(): void;
  /** Runs checkStale periodically (an unref'd timer). */
  start(): void;
  stop(): void;
};

type EdgeTopic = Exclude<SparkplugTopic, { kind: 'state' }>;

export const createSparkplugTracker = (deps: SparkplugTrackerDeps): SparkplugTracker => {
  const staleAfterMs = deps.staleAfterMs ?? 300_000;
  const maxNodes = deps.maxNodes ?? 10_000;
  const maxDevices = deps.maxDevicesPerNode ?? 1_000;
  const maxMetrics = deps.maxMetricsPerSession ?? 1_000;
  const maxHosts = deps.maxHosts ?? 1_000;
  const decode = createSparkplugDecoder();
  /** Insertion order = least recently seen first (a node is re-inserted on each message). */
  const nodes = new Map<string, NodeSession>();
  const hosts = new Map<string, HostState>();
  const counters = zeroCounters();
  let timer: ReturnType<typeof setInterval> | null = null;

  const publish = (node: NodeSession, device: DeviceSession | null, reason: string, atMs: number, extra: Record<string, unknown> = {}): void => {
    deps.bus.publish({
      type: 'sparkplug_state',
      group: node.group,
      edge_node: node.edgeNode,
      device: device?.device ?? null,
      state: device ? deviceState(node, device) : nodeState(node),
      detail: device
        ? { reason, births: device.births, deaths: device.deaths, metrics: device.metrics.byName.size, ...extra }
        : { reason, bd_seq: node.bdSeq, seq: node.lastSeq, births: node.births, deaths: node.deaths, seq_gaps: node.seqGaps, metrics: node.metrics.byName.size, ...extra },
      at: new Date(atMs).toISOString(),
    });
  };

  const count = (p: TableProblems): void => {
    counters.unknown_aliases += p.unknownAliases;
    counters.metrics_dropped += p.dropped;
  };

  /** The node's session, created when new; moved to the most recently seen end. */
  const touchNode = (t: EdgeTopic): NodeSession => {
    const key = `${t.group}/${t.edgeNode}`;
    const node = nodes.get(key) ?? newNode(t.group, t.edgeNode);
    nodes.delete(key);
    nodes.set(key, node);
    if (nodes.size > maxNodes) {
      const oldest = nodes.keys().next().value as string;
      nodes.delete(oldest);
      counters.nodes_evicted++;
    }
    return node;
  };

  const deviceOf = (node: NodeSession, name: string): DeviceSession | null => {
    const existing = node.devices.get(name);
    if (existing) return existing;
    if (node.devices.size >= maxDevices) {
      counters.devices_dropped++;
      return null;
    }
    const d = newDevice(name);
    node.devices.set(name, d);
    return d;
  };

  /** Any message from the node proves it connected; true when that changed its state. */
  const seen = (node: NodeSession, at: number): boolean => {
    const changed = !node.online || node.stale;
    node.online = true;
    node.stale = false;
    node.lastMessageAt = at;
    node.messages++;
    return changed;
  };

  const checkSeq = (node: NodeSession, seq: number | null, at: number): void => {
    if (seq === null) return;
    if (node.lastSeq !== null) {
      const expected = (node.lastSeq + 1) % 256;
      if (seq !== expected) {
        node.seqGaps++;
        node.lastSeqGap = { expected, got: seq, at };
        counters.seq_gaps++;
        node.lastSeq = seq;
        publish(node, null, 'seq_gap', at, { expected, got: seq });
        return;
      }
    }
    node.lastSeq = seq;
  };

  const onNode = (t: Extract<EdgeTopic, { kind: 'node' }>, p: DecodedPayload, at: number): void => {
    if (t.type === 'NCMD') {
      const node = nodes.get(`${t.group}/${t.edgeNode}`);
      if (node) node.commands++;
      return;
    }
    const node = touchNode(t);
    switch (t.type) {
      case 'NBIRTH':
        seen(node, at);
        node.birthSeen = true;
        node.births++;
        node.lastBirthAt = at;
        node.bdSeq = bdSeqOf(p);
        node.lastSeq = p.seq;
        count(applyBirth(node.metrics, p.metrics, at, maxMetrics));
        // Devices belong to a session: they are born again after the NBIRTH [tck-id-message-flow-device-birth-publish-nbirth-wait].
        for (const d of node.devices.values()) d.online = false;
        publish(node, null, 'birth', at);
        return;
      case 'NDATA': {
        const changed = seen(node, at);
        checkSeq(node, p.seq, at);
        count(applyData(node.metrics, p.metrics, at, maxMetrics));
        if (changed) publish(node, null, 'alive', at);
        return;
      }
      case 'NDEATH': {
        node.messages++;
        const bdSeq = bdSeqOf(p);
        if (node.online && node.bdSeq !== null && bdSeq !== null && String(bdSeq) !== String(node.bdSeq)) {
          node.ignoredDeaths++;
          counters.ignored_deaths++;
          return;
        }
        node.online = false;
        node.stale = false;
        node.deaths++;
        node.lastDeathAt = at;
        node.lastSeq = null;
        if (bdSeq !== null) node.bdSeq = bdSeq;
        markStale(node.metrics);
        for (const d of node.devices.values()) {
          d.online = false;
          markStale(d.metrics);
        }
        publish(node, null, 'death', at);
        return;
      }
    }
  };

  const onDevice = (t: Extract<EdgeTopic, { kind: 'device' }>, p: DecodedPayload, at: number): void => {
    if (t.type === 'DCMD') {
      const node = nodes.get(`${t.group}/${t.edgeNode}`);
      if (node) node.commands++;
      return;
    }
    const node = touchNode(t);
    if (seen(node, at)) publish(node, null, 'alive', at);
    checkSeq(node, p.seq, at);
    const device = deviceOf(node, t.device);
    if (!device) return;
    device.messages++;
    device.lastMessageAt = at;
    switch (t.type) {
      case 'DBIRTH':
        device.online = true;
        device.birthSeen = true;
        device.births++;
        device.lastBirthAt = at;
        count(applyBirth(device.metrics, p.metrics, at, maxMetrics));
        publish(node, device, 'birth', at);
        return;
      case 'DDATA': {
        const changed = !device.online;
        device.online = true;
        count(applyData(device.metrics, p.metrics, at, maxMetrics));
        if (changed) publish(node, device, 'alive', at);
        return;
      }
      case 'DDEATH':
        device.online = false;
        device.deaths++;
        device.lastDeathAt = at;
        markStale(device.metrics);
        publish(node, device, 'death', at);
        return;
    }
  };

  const onState = (t: Extract<SparkplugTopic, { kind: 'state' }>, msg: ObservedMessage): void => {
    const online = hostOnline(msg.payload);
    if (online === null) {
      counters.decode_errors++;
      return;
    }
    if (!hosts.has(t.hostId) && hosts.size >= maxHosts) return;
    hosts.set(t.hostId, { hostId: t.hostId, online, version: t.version, at: msg.receivedAt });
  };

  /** The table whose birth declared the datatypes of this message's metrics. */
  const tableFor = (t: EdgeTopic): MetricTable | undefined => {
    const node = nodes.get(`${t.group}/${t.edgeNode}`);
    return t.kind === 'node' ? node?.metrics : node?.devices.get(t.device)?.metrics;
  };

  const processMessage = (msg: ObservedMessage): void => {
    const topic = classifySparkplugTopic(msg.topic);
    if (!topic) {
      if (inSparkplugNamespace(msg.topic)) counters.invalid_topics++;
      return;
    }
    counters.messages++;
    try {
      if (topic.kind === 'state') {
        onState(topic, msg);
        return;
      }
      let payload: DecodedPayload;
      try {
        const table = tableFor(topic);
        payload = decode(msg.payload, (name, alias) => declaredType(table, name, alias));
      } catch {
        counters.decode_errors++;
        return;
      }
      if (topic.kind === 'node') onNode(topic, payload, msg.receivedAt);
      else onDevice(topic, payload, msg.receivedAt);
    } catch (err) {
      // A processor never throws (adapters/live/observed-message.ts); a bug here is logged and counted.
      counters.decode_errors++;
      deps.logger.warn({ err, topic: msg.topic }, 'sparkplug tracker failed on a message');
    }
  };

  const checkStale = (): void => {
    const now = Date.parse(deps.clock.now());
    for (const node of nodes.values()) {
      if (!node.online || node.stale || node.lastMessageAt === null) continue;
      if (now - node.lastMessageAt >= staleAfterMs) {
        node.stale = true;
        publish(node, null, 'stale', now, { silent_ms: now - node.lastMessageAt });
      }
    }
  };

  return {
    name: 'sparkplug',
    process: processMessage,
    nodes: () => {
      checkStale();
      return nodesView(nodes.values(), hosts.values(), counters);
    },
    counters: () => ({ ...counters }),
    checkStale,
    start: () => {
      if (timer) return;
      timer = setInterval(checkStale, deps.checkIntervalMs ?? 5_000);
      timer.unref();
    },
    stop: () => {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
};
