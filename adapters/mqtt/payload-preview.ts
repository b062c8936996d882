/**
 * Human-readable previews of MQTT payloads (DESIGN §7: "last payload preview"): UTF-8 text as is,
 * JSON pretty-printed, anything else as a short hex summary. Always capped, so a 256 MiB payload
 * never turns into a 256 MiB string.
 */
import { isUtf8 } from 'node:buffer';

export type PreviewKind = 'text' | 'json' | 'binary';
export type Preview = Readonly<{ kind: PreviewKind; text: string; truncated: boolean }>;

const HEX_BYTES = 16;

/** C0 controls other than tab, LF and CR mean "not text" (a UTF-8 string of NULs is not a message). */
const hasControlChars = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 && c !== 9 && c !== 10 && c !== 13) return true;
    if (c === 127) return true;
  }
  return false;
};

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** "binary, 12 bytes: 0a 1b …" (`total` is the real size when `payload` is a kept head). */
const binarySummary = (payload: Uint8Array, total: number): string => {
  const shown = Math.min(HEX_BYTES, payload.length);
  let hex = '';
  for (let i = 0; i < shown; i++) hex += (i === 0 ? '' : ' ') + HEX[payload[i] as number];
  return `binary, ${total} byte${total === 1 ? '' : 's'}: ${hex}${total > shown ? ' …' : ''}`;
};

/**
 * The first `max` bytes or fewer: never ends inside a UTF-8 sequence, so a text payload cut at
 * the cap is still valid text.
 */
export const utf8Prefix = <T extends Uint8Array>(payload: T, max: number): T => {
  if (payload.length <= max) return payload;
  let end = max;
  // Back up over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && ((payload[end] as number) & 0xc0) === 0x80) end--;
  return payload.subarray(0, end) as T;
};

const looksLikeJson = (s: string): boolean => {
  const t = s.trimStart();
  const c = t.charCodeAt(0);
  return c === 123 /* { */ || c === 91 /* [ */;
};

/**
 * Full preview (topic detail, history): JSON is parsed and pretty-printed when the whole payload
 * fits under `maxBytes`; a longer payload is shown as text, cut. `totalBytes` is the real size
 * when `payload` is only the head kept of a longer message.
 */
export const previewPayload = (payload: Uint8Array, maxBytes = 1024, totalBytes = payload.length): Preview => {
  if (totalBytes === 0) return { kind: 'text', text: '', truncated: false };
  const head = utf8Prefix(payload, maxBytes);
  const truncated = head.length < totalBytes;
  if (!isUtf8(head)) return { kind: 'binary', text: binarySummary(payload, totalBytes), truncated: false };
  const text = Buffer.from(head.buffer, head.byteOffset, head.length).toString('utf8');
  if (hasControlChars(text)) return { kind: 'binary', text: binarySummary(payload, totalBytes), truncated: false };
  if (!truncated && looksLikeJson(text)) {
    try {
      const pretty = JSON.stringify(JSON.parse(text), null, 2);
      return pretty.length <= maxBytes * 2 ? { kind: 'json', text: pretty, truncated: false } : { kind: 'json', text, truncated: false };
    } catch { /* not JSON after all: plain text */ }
  }
  return { kind: 'text', text, truncated };
};

const EMPTY_TEXT: Preview = Object.freeze({ kind: 'text', text: '', truncated: false });

/**
 * The cheap variant for live `topic_message` pushes (one per received message): no JSON parse,
 * a shorter cap, and a byte loop for the common ASCII payload instead of UTF-8 validation plus a
 * scan of the decoded string. "json" here only means "starts like JSON".
 */
export const quickPreview = (payload: Buffer, maxBytes = 256): Preview => {
  const len = payload.length;
  if (len === 0) return EMPTY_TEXT;
  const n = len < maxBytes ? len : maxBytes;
  let first = -1;
  for (let i = 0; i < n; i++) {
    const b = payload[i] as number;
    if (b >= 0x80) return quickPreviewUtf8(payload, maxBytes);
    if (b < 0x20) {
      if (b !== 9 && b !== 10 && b !== 13) return { kind: 'binary', text: binarySummary(payload, len), truncated: false };
    } else if (b === 0x7f) {
      return { kind: 'binary', text: binarySummary(payload, len), truncated: false };
    } else if (first === -1 && b !== 0x20) {
      first = b;
    }
  }
  return { kind: first === 123 || first === 91 ? 'json' : 'text', text: payload.toString('latin1', 0, n), truncated: n < len };
};

const quickPreviewUtf8 = (payload: Buffer, maxBytes: number): Preview => {
  const head = utf8Prefix(payload, maxBytes);
  if (!isUtf8(head)) return { kind: 'binary', text: binarySummary(payload, payload.length), truncated: false };
  const text = head.toString('utf8');
  if (hasControlChars(text)) return { kind: 'binary', text: binarySummary(payload, payload.length), truncated: false };
  return { kind: looksLikeJson(text) ? 'json' : 'text', text, truncated: head.length < payload.length };
};
