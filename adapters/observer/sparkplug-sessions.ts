/**
 * The in-memory session records behind the Sparkplug tracker, and the metric tables births
 * define: a birth lists every metric with its name, alias and datatype [tck-id-payloads-metric-
 * datatype-req]; later DATA messages may carry only the alias [tck-id-payloads-alias-data-cmd-
 * requirement], resolved here through the table of the same node or device.
 */
import type { DecodedMetric, MetricValue } from './sparkplug-payload.ts';

export type MetricSlot = {
  name: string;
  alias: number | null;
  type: string | null;
  value: MetricValue;
  /** The metric's own timestamp (ms), when it carries one. */
  timestamp: number | null;
  /** Receipt time (ms) of the message that last set it. */
  updatedAt: number;
  /** Set by a death: the value is the last known one, not a current one. */
  stale: boolean;
};

export type MetricTable = { byName: Map<string, MetricSlot>; aliases: Map<number, string> };

export type DeviceSession = {
  device: string;
  online: boolean;
  birthSeen: boolean;
  births: number;
  deaths: number;
  messages: number;
  lastMessageAt: number | null;
  lastBirthAt: number | null;
  lastDeathAt: number | null;
  metrics: MetricTable;
};

export type SeqGap = { expected: number; got: number; at: number };

export type NodeSession = {
  group: string;
  edgeNode: string;
  online: boolean;
  /** Online, but silent for longer than the stale threshold. */
  stale: boolean;
  birthSeen: boolean;
  /** The `bdSeq` metric of the current session's NBIRTH (or of the last NDEATH). */
  bdSeq: number | string | null;
  /** The last seq seen from the node (N* and D* messages share one 0..255 counter). */
  lastSeq: number | null;
  seqGaps: number;
  lastSeqGap: SeqGap | null;
  births: number;
  deaths: number;
  /** NDEATHs whose bdSeq belonged to an earlier session. */
  ignoredDeaths: number;
  messages: number;
  /** NCMD/DCMD sent to the node by host applications. */
  commands: number;
  lastMessageAt: number | null;
  lastBirthAt: number | null;
  lastDeathAt: number | null;
  metrics: MetricTable;
  devices: Map<string, DeviceSession>;
};

export type HostState = { hostId: string; online: boolean; version: '3.0' | '2.2'; at: number };

export const newTable = (): MetricTable => ({ byName: new Map(), aliases: new Map() });

export const newNode = (group: string, edgeNode: string): NodeSession => ({
  group, edgeNode, online: false, stale: false, birthSeen: false, bdSeq: null, lastSeq: null, seqGaps: 0, lastSeqGap: null,
  births: 0, deaths: 0, ignoredDeaths: 0, messages: 0, commands: 0, lastMessageAt: null, lastBirthAt: null, lastDeathAt: null,
  metrics: newTable(), devices: new Map(),
});

export const newDevice = (device: string): DeviceSession => ({
  device, online: false, birthSeen: false, births: 0, deaths: 0, messages: 0, lastMessageAt: null, lastBirthAt: null, lastDeathAt: null,
  metrics: newTable(),
});

/** What went wrong while applying metrics, for the tracker's counters. */
export type TableProblems = { unknownAliases: number; dropped: number };

/**
 * A birth replaces the table: it is the complete list of the node's (or device's) metrics for the
 * new session. Metrics without a name cannot be defined and are skipped.
 */
export const applyBirth = (table: MetricTable, metrics: readonly DecodedMetric[], at: number, max: number): TableProblems => {
  table.byName.clear();
  table.aliases.clear();
  let dropped = 0;
  for (const m of metrics) {
    if (m.name === null) continue;
    if (!table.byName.has(m.name) && table.byName.size >= max) {
      dropped++;
      continue;
    }
    table.byName.set(m.name, { name: m.name, alias: m.alias, type: m.type, value: m.value, timestamp: m.timestamp, updatedAt: at, stale: false });
    if (m.alias !== null) table.aliases.set(m.alias, m.name);
  }
  return { unknownAliases: 0, dropped };
};

/** DATA updates values, naming alias-only metrics through the birth's aliases. */
export const applyData = (table: MetricTable, metrics: readonly DecodedMetric[], at: number, max: number): TableProblems => {
  let unknownAliases = 0;
  let dropped = 0;
  for (const m of metrics) {
    const name = m.name ?? (m.alias === null ? undefined : table.aliases.get(m.alias));
    if (name === undefined) {
      unknownAliases++;
      continue;
    }
    const slot = table.byName.get(name);
    if (slot) {
      slot.value = m.value;
      slot.timestamp = m.timestamp;
      slot.updatedAt = at;
      slot.stale = false;
      if (m.type !== null) slot.type = m.type;
    } else if (table.byName.size >= max) {
      dropped++;
    } else {
      table.byName.set(name, { name, alias: m.alias, type: m.type, value: m.value, timestamp: m.timestamp, updatedAt: at, stale: false });
    }
  }
  return { unknownAliases, dropped };
};

export const markStale = (table: MetricTable): void => {
  for (const slot of table.byName.values()) slot.stale = true;
};

/** The datatype a birth declared, for metrics sent without one (sparkplug-payload.ts). */
export const declaredType = (table: MetricTable | undefined, name: string | null, alias: number | null): string | null => {
  if (!table) return null;
  const key = name ?? (alias === null ? undefined : table.aliases.get(alias));
  return key === undefined ? null : (table.byName.get(key)?.type ?? null);
};
