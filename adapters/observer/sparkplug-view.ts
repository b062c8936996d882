/**
 * The JSON view of the Sparkplug tracker for `GET /api/v1/sparkplug/nodes` (DESIGN §8: snake_case
 * fields, collections as `{items, total}`): nodes sorted by group and edge node id, their devices
 * and metrics sorted by name, plus the host applications seen on STATE topics and the counters.
 */
import type { MetricValue } from './sparkplug-payload.ts';
import type { DeviceSession, HostState, MetricTable, NodeSession } from './sparkplug-sessions.ts';

export type SparkplugState = 'online' | 'offline' | 'stale';

export type SparkplugMetricView = {
  name: string;
  alias: number | null;
  type: string | null;
  value: MetricValue;
  timestamp: string | null;
  updated_at: string | null;
  stale: boolean;
};

export type SparkplugDeviceView = {
  device: string;
  state: SparkplugState;
  birth_seen: boolean;
  births: number;
  deaths: number;
  messages: number;
  last_message_at: string | null;
  last_birth_at: string | null;
  last_death_at: string | null;
  metrics: SparkplugMetricView[];
};

export type SparkplugNodeView = {
  group: string;
  edge_node: string;
  state: SparkplugState;
  birth_seen: boolean;
  bd_seq: number | string | null;
  last_seq: number | null;
  seq_gaps: number;
  last_seq_gap: { expected: number; got: number; at: string | null } | null;
  births: number;
  deaths: number;
  ignored_deaths: number;
  messages: number;
  commands: number;
  last_message_at: string | null;
  last_birth_at: string | null;
  last_death_at: string | null;
  metrics: SparkplugMetricView[];
  devices: SparkplugDeviceView[];
};

export type SparkplugHostView = { host_id: string; online: boolean; version: '3.0' | '2.2'; at: string | null };

export type SparkplugCounters = {
  /** Messages on Sparkplug topics (spBv1.0/… and STATE/…). */
  messages: number;
  /** Payloads that did not decode (protobuf, or a STATE payload that is neither JSON nor ONLINE/OFFLINE). */
  decode_errors: number;
  /** spBv1.0/… topics that are not a valid Sparkplug topic. */
  invalid_topics: number;
  /** DATA metrics whose alias no birth defined (and that carry no name). */
  unknown_aliases: number;
  /** NDEATHs ignored because their bdSeq belongs to an earlier session. */
  ignored_deaths: number;
  seq_gaps: number;
  /** Least recently seen nodes dropped to stay within the node bound. */
  nodes_evicted: number;
  devices_dropped: number;
  metrics_dropped: number;
};

export const zeroCounters = (): SparkplugCounters => ({
  messages: 0, decode_errors: 0, invalid_topics: 0, unknown_aliases: 0, ignored_deaths: 0, seq_gaps: 0,
  nodes_evicted: 0, devices_dropped: 0, metrics_dropped: 0,
});

export type SparkplugNodesView = {
  items: SparkplugNodeView[];
  total: number;
  hosts: SparkplugHostView[];
  counters: SparkplugCounters;
};

/** ISO-8601 for ms since the epoch; null when absent or outside what Date can show. */
export const isoOrNull = (ms: number | null): string | null => {
  if (ms === null || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString();
};

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const metricsView = (table: MetricTable): SparkplugMetricView[] =>
  [...table.byName.values()].sort((a, b) => byCodeUnit(a.name, b.name)).map((m) => ({
    name: m.name,
    alias: m.alias,
    type: m.type,
    value: m.value,
    timestamp: isoOrNull(m.timestamp),
    updated_at: isoOrNull(m.updatedAt),
    stale: m.stale,
  }));

export const nodeState = (node: NodeSession): SparkplugState => (!node.online ? 'offline' : node.stale ? 'stale' : 'online');

/** A device is as alive as its node: offline with it, stale with it. */
export const deviceState = (node: NodeSession, device: DeviceSession): SparkplugState =>
  !device.online || !node.online ? 'offline' : node.stale ? 'stale' : 'online';

const deviceView = (node: NodeSession, d: DeviceSession): SparkplugDeviceView => ({
  device: d.device,
  state: deviceState(node, d),
  birth_seen: d.birthSeen,
  births: d.births,
  deaths: d.deaths,
  messages: d.messages,
  last_message_at: isoOrNull(d.lastMessageAt),
  last_birth_at: isoOrNull(d.lastBirthAt),
  last_death_at: isoOrNull(d.lastDeathAt),
  metrics: metricsView(d.metrics),
});

export const nodeView = (n: NodeSession): SparkplugNodeView => ({
  group: n.group,
  edge_node: n.edgeNode,
  state: nodeState(n),
  birth_seen: n.birthSeen,
  bd_seq: n.bdSeq,
  last_seq: n.lastSeq,
  seq_gaps: n.seqGaps,
  last_seq_gap: n.lastSeqGap ? { expected: n.lastSeqGap.expected, got: n.lastSeqGap.got, at: isoOrNull(n.lastSeqGap.at) } : null,
  births: n.births,
  deaths: n.deaths,
  ignored_deaths: n.ignoredDeaths,
  messages: n.messages,
  commands: n.commands,
  last_message_at: isoOrNull(n.lastMessageAt),
  last_birth_at: isoOrNull(n.lastBirthAt),
  last_death_at: isoOrNull(n.lastDeathAt),
  metrics: metricsView(n.metrics),
  devices: [...n.devices.values()].sort((a, b) => byCodeUnit(a.device, b.device)).map((d) => deviceView(n, d)),
});

export const nodesView = (
  nodes: Iterable<NodeSession>,
  hosts: Iterable<HostState>,
  counters: SparkplugCounters,
): SparkplugNodesView => {
  const items = [...nodes]
    .sort((a, b) => byCodeUnit(a.group, b.group) || byCodeUnit(a.edgeNode, b.edgeNode))
    .map(nodeView);
  return {
    items,
    total: items.length,
    hosts: [...hosts].sort((a, b) => byCodeUnit(a.hostId, b.hostId))
      .map((h) => ({ host_id: h.hostId, online: h.online, version: h.version, at: isoOrNull(h.at) })),
    counters: { ...counters },
  };
};
