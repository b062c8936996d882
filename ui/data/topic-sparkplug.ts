/**
 * Sparkplug B in the topic explorer: which node or device a topic belongs to, and its decoded
 * metrics from `GET /sparkplug/nodes` (the server decodes the protobuf payloads; the topic's own
 * preview is only a binary summary). Topic namespace as Sparkplug 3.0 §4.1:
 *   spBv1.0/<group>/<N|D><BIRTH|DEATH|DATA|CMD>/<edge_node>[/<device>]
 *   spBv1.0/STATE/<host_id>
 */

export type SparkplugRef =
  | { kind: 'node'; group: string; messageType: string; edgeNode: string }
  | { kind: 'device'; group: string; messageType: string; edgeNode: string; device: string }
  | { kind: 'state'; hostId: string };

const NODE_TYPES = new Set(['NBIRTH', 'NDEATH', 'NDATA', 'NCMD']);
const DEVICE_TYPES = new Set(['DBIRTH', 'DDEATH', 'DDATA', 'DCMD']);

const validId = (s: string | undefined): s is string => s !== undefined && s.length > 0 && !s.includes('+') && !s.includes('#');

/** The Sparkplug parts of `topic`, or null for any other topic (or a malformed Sparkplug one). */
export const parseSparkplugTopic = (topic: string): SparkplugRef | null => {
  const levels = topic.split('/');
  if (levels[0] !== 'spBv1.0') return null;
  const [, group, type, edgeNode, device] = levels;
  if (group === 'STATE') return levels.length === 3 && validId(type) ? { kind: 'state', hostId: type } : null;
  if (!validId(group) || type === undefined || !validId(edgeNode)) return null;
  if (NODE_TYPES.has(type) && levels.length === 4) return { kind: 'node', group, messageType: type, edgeNode };
  if (DEVICE_TYPES.has(type) && levels.length === 5 && validId(device)) return { kind: 'device', group, messageType: type, edgeNode, device };
  return null;
};

export type SparkplugMetric = Readonly<{
  name: string;
  alias: number | null;
  type: string | null;
  value: number | string | boolean | null;
  timestamp: string | null;
  updated_at: string | null;
  stale: boolean;
}>;

export type SparkplugDevice = Readonly<{
  device: string;
  state: 'online' | 'offline' | 'stale';
  birth_seen: boolean;
  messages: number;
  last_message_at: string | null;
  metrics: readonly SparkplugMetric[];
}>;

export type SparkplugNode = Readonly<{
  group: string;
  edge_node: string;
  state: 'online' | 'offline' | 'stale';
  birth_seen: boolean;
  bd_seq: number | string | null;
  last_seq: number | null;
  seq_gaps: number;
  messages: number;
  last_message_at: string | null;
  metrics: readonly SparkplugMetric[];
  devices: readonly SparkplugDevice[];
}>;

export type SparkplugHost = Readonly<{ host_id: string; online: boolean; version: string; at: string | null }>;

export type SparkplugNodeList = Readonly<{ items: readonly SparkplugNode[]; total: number; hosts: readonly SparkplugHost[] }>;

export type SparkplugMatch =
  | { kind: 'node'; node: SparkplugNode }
  | { kind: 'device'; node: SparkplugNode; device: SparkplugDevice }
  | { kind: 'state'; host: SparkplugHost }
  | { kind: 'unknown' };

/** What `GET /sparkplug/nodes` knows about the node, device or host of `ref`. */
export const findSparkplug = (list: SparkplugNodeList, ref: SparkplugRef): SparkplugMatch => {
  if (ref.kind === 'state') {
    const host = list.hosts.find((h) => h.host_id === ref.hostId);
    return host ? { kind: 'state', host } : { kind: 'unknown' };
  }
  const node = list.items.find((n) => n.group === ref.group && n.edge_node === ref.edgeNode);
  if (!node) return { kind: 'unknown' };
  if (ref.kind === 'node') return { kind: 'node', node };
  const device = node.devices.find((d) => d.device === ref.device);
  return device ? { kind: 'device', node, device } : { kind: 'unknown' };
};
