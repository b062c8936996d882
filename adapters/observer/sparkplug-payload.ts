/**
 * Sparkplug B payload decoding with sparkplug-payload (Eclipse Tahu's protobuf codec), turned into
 * plain JSON values: protobuf 64-bit integers arrive as `Long` objects and become numbers (or
 * decimal strings past 2^53), complex values (DataSet, Template, bytes) become short summaries.
 * Garbage throws; the caller counts it (DESIGN §7: a bad payload is counted, never a crash).
 *
 * Sparkplug 3.0 says the datatype SHOULD NOT be sent in NDATA/DDATA/NCMD/DCMD
 * [tck-id-payloads-metric-datatype-not-req]; the codec's decodePayload then returns null for the
 * value (it picks the value field by datatype). For such metrics the value is read from the
 * protobuf oneof directly, and interpreted with the datatype the birth declared (`typeHint`).
 */
import type SparkplugPayload from 'sparkplug-payload';
import type SparkplugProto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import { lazyModule } from '../modules/lazy-module.ts';
import { SPARKPLUG_NAMESPACE } from './sparkplug-topic.ts';

// Loaded with the first Sparkplug payload, not with the server (issue 14: protobufjs and the codec).
const sparkplugModule = lazyModule<typeof SparkplugPayload>('sparkplug-payload');
const protoModule = lazyModule<typeof SparkplugProto>('sparkplug-payload/lib/sparkplugPayloadProto.js');

export type MetricValue = number | string | boolean | null;

export type DecodedMetric = {
  name: string | null;
  alias: number | null;
  /** Sparkplug datatype name ('Double', 'Int64', 'Boolean', …), or null when the metric has none (DATA may omit it). */
  type: string | null;
  value: MetricValue;
  /** ms since the epoch, when the metric carries one. */
  timestamp: number | null;
};

export type DecodedPayload = {
  timestamp: number | null;
  seq: number | null;
  metrics: DecodedMetric[];
};

type LongLike = { toNumber(): number; toString(radix?: number): string };

const isLong = (v: unknown): v is LongLike =>
  v !== null && typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function' && 'low' in v && 'high' in v;

/** A Long as a number when it is exact, else its decimal string; numbers pass through. */
const integer = (v: unknown): number | string | null => {
  if (typeof v === 'number') return v;
  if (isLong(v)) {
    const n = v.toNumber();
    return Number.isSafeInteger(n) ? n : v.toString(10);
  }
  return null;
};

const numberOrNull = (v: unknown): number | null => {
  const n = integer(v);
  return typeof n === 'number' ? n : null;
};

const valueOf = (type: string | null, raw: unknown): MetricValue => {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'number' || typeof raw === 'boolean' || typeof raw === 'string') return raw;
  if (isLong(raw)) return integer(raw);
  if (raw instanceof Uint8Array) return `<${type ?? 'Bytes'}, ${raw.length} bytes>`;
  if (type === 'DataSet' && typeof raw === 'object') {
    const ds = raw as { rows?: unknown[]; columns?: unknown[] };
    return `<DataSet ${ds.rows?.length ?? 0}×${ds.columns?.length ?? 0}>`;
  }
  return `<${type ?? 'value'}>`;
};

/** The datatype the birth declared for a metric, by name or alias (null when unknown). */
export type TypeHint = (name: string | null, alias: number | null) => string | null;

export type SparkplugDecoder = (payload: Uint8Array, typeHint?: TypeHint) => DecodedPayload;

type RawMetric = Record<string, unknown> & { value?: string };

/** The oneof `value` of a metric sent without a datatype, read as `type` (the birth's) when known. */
const untypedValue = (raw: RawMetric | undefined, type: string | null): MetricValue => {
  if (!raw || raw.isNull === true || typeof raw.value !== 'string') return null;
  const v = raw[raw.value];
  // int_value is a uint32 in sparkplug_b.proto: Int8/16/32 travel as their two's complement.
  if (raw.value === 'intValue' && typeof v === 'number' && (type === 'Int8' || type === 'Int16' || type === 'Int32')) return v | 0;
  // long_value is a uint64 in sparkplug_b.proto: Int64 travels as its two's complement.
  if (raw.value === 'longValue' && isLong(v) && type === 'Int64') return integer((v as LongLike & { toSigned(): LongLike }).toSigned());
  return valueOf(type, v);
};

/** The decoder; the codec is looked up by namespace once, on the first payload. */
export const createSparkplugDecoder = (): SparkplugDecoder => {
  let built: SparkplugDecoder | null = null;
  return (payload, typeHint) => (built ??= buildDecoder())(payload, typeHint);
};

const buildDecoder = (): SparkplugDecoder => {
  const codec = sparkplugModule().get(SPARKPLUG_NAMESPACE);
  if (!codec) throw new Error(`sparkplug-payload has no codec for ${SPARKPLUG_NAMESPACE}`);
  const Payload = protoModule().org.eclipse.tahu.protobuf.Payload;
  return (payload, typeHint) => {
    const decoded = codec.decodePayload(payload);
    let raw: RawMetric[] | null = null;
    const metrics = (decoded.metrics ?? []).map((m, i): DecodedMetric => {
      const name = typeof m.name === 'string' ? m.name : null;
      const alias = numberOrNull(m.alias);
      const declared = typeof m.type === 'string' ? m.type : null;
      let value: MetricValue;
      let type: string | null = declared;
      if (m.isNull === true) {
        value = null;
      } else if (declared === null) {
        raw ??= Payload.decode(payload).metrics as unknown as RawMetric[];
        type = typeHint?.(name, alias) ?? null;
        value = untypedValue(raw[i], type);
      } else {
        value = valueOf(declared, m.value);
      }
      return { name, alias, type, value, timestamp: numberOrNull(m.timestamp) };
    });
    return { timestamp: numberOrNull(decoded.timestamp), seq: numberOrNull(decoded.seq), metrics };
  };
};

/** The `bdSeq` metric of an NBIRTH or NDEATH [tck-id-payloads-nbirth-bdseq, tck-id-payloads-ndeath-bdseq]. */
export const bdSeqOf = (payload: DecodedPayload): number | string | null => {
  const v = payload.metrics.find((m) => m.name === 'bdSeq')?.value;
  return typeof v === 'number' || typeof v === 'string' ? v : null;
};

/** 3.0: JSON `{"online": bool, "timestamp": …}`; 2.2: the text ONLINE or OFFLINE. Else null. */
export const hostOnline = (payload: Buffer): boolean | null => {
  const text = payload.toString('utf8').trim();
  if (text === 'ONLINE') return true;
  if (text === 'OFFLINE') return false;
  try {
    const v: unknown = JSON.parse(text);
    const online = v !== null && typeof v === 'object' ? (v as { online?: unknown }).online : undefined;
    return typeof online === 'boolean' ? online : null;
  } catch {
    return null;
  }
};
