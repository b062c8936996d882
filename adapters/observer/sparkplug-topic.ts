/**
 * Sparkplug B topic classification (Sparkplug 3.0 §4.1 "Topic Namespace Elements"):
 *   spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>]
 *   spBv1.0/STATE/<sparkplug_host_id>        (Host Application state, 3.0)
 *   STATE/<scada_host_id>                    (the 2.2 form, still published by older hosts)
 * Node messages (N*) have no device_id, device messages (D*) must have one. Ids are non-empty
 * levels without '+', '/' or '#' [tck-id-topic-structure-namespace-valid-group-id, -edge-node-id,
 * -device-id]. `spBv1.0/STATE/…` is the Host Application topic, so `STATE` is never a group here.
 */

export const SPARKPLUG_NAMESPACE = 'spBv1.0';

export const NODE_MESSAGE_TYPES = ['NBIRTH', 'NDEATH', 'NDATA', 'NCMD'] as const;
export const DEVICE_MESSAGE_TYPES = ['DBIRTH', 'DDEATH', 'DDATA', 'DCMD'] as const;
export type NodeMessageType = (typeof NODE_MESSAGE_TYPES)[number];
export type DeviceMessageType = (typeof DEVICE_MESSAGE_TYPES)[number];
export type SparkplugMessageType = NodeMessageType | DeviceMessageType;

export type SparkplugTopic =
  | { kind: 'node'; group: string; type: NodeMessageType; edgeNode: string }
  | { kind: 'device'; group: string; type: DeviceMessageType; edgeNode: string; device: string }
  | { kind: 'state'; hostId: string; version: '3.0' | '2.2' };

const NODE_TYPES: ReadonlySet<string> = new Set(NODE_MESSAGE_TYPES);
const DEVICE_TYPES: ReadonlySet<string> = new Set(DEVICE_MESSAGE_TYPES);

/** True for topics in the Sparkplug B namespace: a failed classification of one of those is worth counting. */
export const inSparkplugNamespace = (topic: string): boolean => topic.startsWith(`${SPARKPLUG_NAMESPACE}/`);

const validId = (s: string | undefined): s is string => s !== undefined && s.length > 0 && !s.includes('+') && !s.includes('#');

/** The parts of a Sparkplug B topic, or null when `topic` is not one (or is malformed). */
export const classifySparkplugTopic = (topic: string): SparkplugTopic | null => {
  // Called for every observed message: most are not Sparkplug, so decide without splitting.
  if (!topic.startsWith(`${SPARKPLUG_NAMESPACE}/`) && !topic.startsWith('STATE/')) return null;
  const levels = topic.split('/');
  if (levels[0] === 'STATE') {
    return levels.length === 2 && validId(levels[1]) ? { kind: 'state', hostId: levels[1], version: '2.2' } : null;
  }
  if (levels[0] !== SPARKPLUG_NAMESPACE) return null;
  const [, group, type, edgeNode, device] = levels;
  if (group === 'STATE') {
    return levels.length === 3 && validId(type) ? { kind: 'state', hostId: type, version: '3.0' } : null;
  }
  if (!validId(group) || type === undefined || !validId(edgeNode)) return null;
  if (NODE_TYPES.has(type)) {
    return levels.length === 4 ? { kind: 'node', group, type: type as NodeMessageType, edgeNode } : null;
  }
  if (DEVICE_TYPES.has(type)) {
    return levels.length === 5 && validId(device) ? { kind: 'device', group, type: type as DeviceMessageType, edgeNode, device } : null;
  }
  return null;
};
