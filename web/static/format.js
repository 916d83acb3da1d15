// format.js: pure helpers for showing messages (no DOM), shared by the
// console's modules and its tests.

/** utf8Size returns the byte length of s in UTF-8 without encoding it. */
export function utf8Size(s) {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** b64Size returns the number of bytes base64 text b decodes to. */
export function b64Size(b) {
  const s = b.replace(/[^A-Za-z0-9+/=_-]/g, '');
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((s.length * 3) / 4) - pad);
}

/** b64ToBytes decodes standard (or URL-safe) base64 into a Uint8Array. */
export function b64ToBytes(b) {
  const s = b.replace(/-/g, '+').replace(/_/g, '/').replace(/\s+/g, '');
  const bin = atob(s + '='.repeat((4 - (s.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * payloadOf reads the payload of a format=json envelope: {text, b64, size,
 * binary}. text is the payload when it is valid UTF-8 ("data"), b64 the
 * base64 when it is not ("data_b64").
 */
export function payloadOf(env) {
  if (typeof env.data === 'string') {
    return { text: env.data, b64: null, size: utf8Size(env.data), binary: false };
  }
  if (typeof env.data_b64 === 'string') {
    return { text: null, b64: env.data_b64, size: b64Size(env.data_b64), binary: true };
  }
  if (env.data !== undefined && env.data !== null) {
    // A server that inlines JSON payloads as values: show them as JSON text.
    const text = JSON.stringify(env.data);
    return { text, b64: null, size: utf8Size(text), binary: false };
  }
  return { text: '', b64: null, size: 0, binary: false };
}

/** hexDump formats bytes as "offset  hex  |ascii|" lines, at most max bytes. */
export function hexDump(bytes, max = 512) {
  const n = Math.min(bytes.length, max);
  const lines = [];
  for (let off = 0; off < n; off += 16) {
    let hex = '';
    let asc = '';
    for (let i = off; i < off + 16; i++) {
      if (i < n) {
        const b = bytes[i];
        hex += b.toString(16).padStart(2, '0') + ' ';
        asc += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else {
        hex += '   ';
      }
      if (i === off + 7) hex += ' ';
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex} |${asc}|`);
  }
  if (bytes.length > n) lines.push(`… ${bytes.length - n} more bytes`);
  return lines.join('\n');
}

/** formatSize shows a byte count: "12 B", "1.5 KiB", "2.0 MiB". */
export function formatSize(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** parseTime parses RFC 3339 with any number of fraction digits (Go's RFC3339Nano). */
export function parseTime(iso) {
  if (typeof iso !== 'string') return null;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) return null;
  const ms = (m[2] || '').slice(0, 3).padEnd(3, '0');
  const d = new Date(`${m[1]}.${ms}${m[3]}`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** formatTime shows an envelope time as local HH:MM:SS.mmm. */
export function formatTime(iso) {
  const d = parseTime(iso);
  if (!d) return iso ? String(iso) : '';
  const p = (v, w = 2) => String(v).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** formatRate shows messages per second. */
export function formatRate(r) {
  if (r === null || r === undefined || !Number.isFinite(r)) return '—';
  if (r === 0) return '0';
  if (r < 10) return r.toFixed(1);
  if (r < 10000) return String(Math.round(r));
  return `${(r / 1000).toFixed(1)}k`;
}

/** formatCount shows a counter with thin grouping. */
export function formatCount(n) {
  if (n === null || n === undefined || n === '') return '—';
  const v = Number(n);
  if (!Number.isFinite(v)) return String(n);
  return v.toLocaleString('en-US');
}

/** preview returns one line of at most max characters of a payload. */
export function preview(text, max = 300) {
  let s = text.length > max * 2 ? text.slice(0, max * 2) : text;
  s = s.replace(/\r\n|\r|\n/g, ' ⏎ ').replace(/\t/g, ' ');
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** seqRange shows an inclusive seq range: "12–40" or "12". */
export function seqRange(from, to) {
  return from === to ? String(from) : `${from}–${to}`;
}

/** pretty returns text re-indented when it is JSON, else null. */
export function pretty(text) {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return null;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return null;
  }
}
