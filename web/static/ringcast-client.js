// ringcast-client.js: a small, dependency-free client for the Ringcast wire
// contract (API.md, v1). It publishes over HTTP and subscribes over WebSocket
// (or server-sent events) with format=json, resuming after a disconnect at
// the last seq + 1 together with its epoch, so nothing accepted is missed
// without the caller hearing of it: a jump in seq is reported as a gap, a new
// epoch as a reset.
//
//   import { RingcastClient } from './ringcast-client.js';
//   const rc = new RingcastClient({ token: '' });
//   const sub = rc.subscribe('chat', {
//     from: 'latest', policy: 'drop-oldest',
//     onMessage(m) {}, onGap({ from, to }) {}, onReset({ from, to, seq }) {},
//     onState({ state, delay, reason, error }) {},
//   });
//   await rc.publish('chat', 'hello');
//   sub.close();

/** An error answered by the server ({"error","code"}) or by the network. */
export class RingcastError extends Error {
  constructor(message, { status = 0, code = '', retryAfter = 0 } = {}) {
    super(message);
    this.name = 'RingcastError';
    this.status = status; // HTTP status, 0 for a network failure
    this.code = code; // the contract's snake_case code, '' if none
    this.retryAfter = retryAfter; // seconds from Retry-After, 0 if absent
  }
}

/** Connection states reported through onState. */
export const State = Object.freeze({
  CONNECTING: 'connecting',
  LIVE: 'live',
  RECONNECTING: 'reconnecting',
  CLOSED: 'closed',
});

const TOPIC_RE = /^[A-Za-z0-9_.-]{1,128}$/;

/** validTopic reports whether name is a topic name the contract accepts. */
export function validTopic(name) {
  return TOPIC_RE.test(name);
}

/**
 * backoffDelay returns the wait in ms before reconnect attempt n (0-based):
 * "full jitter" exponential backoff, uniform in [min, min(max, base*2^n)].
 */
export function backoffDelay(n, { base = 250, max = 15000, min = 100, random = Math.random } = {}) {
  const cap = Math.min(max, base * 2 ** Math.min(n, 30));
  return Math.round(min + random() * Math.max(0, cap - min));
}

async function readError(res) {
  let code = '';
  let message = '';
  try {
    const text = await res.text();
    try {
      const body = JSON.parse(text);
      code = typeof body.code === 'string' ? body.code : '';
      message = typeof body.error === 'string' ? body.error : '';
    } catch {
      message = text.trim().slice(0, 300);
    }
  } catch {
    // body unreadable: keep the status line only
  }
  const retryAfter = Number.parseInt(res.headers.get('Retry-After') || '', 10) || 0;
  return new RingcastError(message || `${res.status} ${res.statusText}`.trim(), {
    status: res.status,
    code,
    retryAfter,
  });
}

export class RingcastClient {
  /**
   * @param {object} [opts]
   * @param {string} [opts.baseURL] server origin (and optional path prefix); default: this page's origin
   * @param {string} [opts.token] bearer token; '' for none
   * @param {Function} [opts.fetch] fetch implementation (tests)
   * @param {Function} [opts.WebSocket] WebSocket constructor (tests)
   * @param {Function} [opts.EventSource] EventSource constructor (tests)
   */
  constructor(opts = {}) {
    const loc = globalThis.location;
    this.baseURL = String(opts.baseURL || (loc ? loc.origin : 'http://127.0.0.1:8080')).replace(/\/+$/, '');
    this.token = opts.token || '';
    this._fetch = opts.fetch || globalThis.fetch.bind(globalThis);
    this._WebSocket = opts.WebSocket || globalThis.WebSocket;
    this._EventSource = opts.EventSource || globalThis.EventSource;
  }

  setToken(token) {
    this.token = token || '';
  }

  /** url builds an absolute http(s) URL for path with query params (undefined/'' skipped). */
  url(path, params = {}) {
    const u = new URL(this.baseURL + path);
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined && v !== null && v !== '') u.searchParams.set(k, String(v));
    }
    return u.toString();
  }

  topicPath(topic, suffix = '') {
    return `/v1/topics/${encodeURIComponent(topic)}${suffix}`;
  }

  /** request does a fetch with the bearer token; non-2xx throws a RingcastError. */
  async request(path, { method = 'GET', body, headers = {}, signal } = {}) {
    const h = { ...headers };
    if (this.token) h.Authorization = `Bearer ${this.token}`;
    let res;
    try {
      res = await this._fetch(this.url(path), { method, body, headers: h, signal, cache: 'no-store' });
    } catch (err) {
      if (err && err.name === 'AbortError') throw err;
      throw new RingcastError(`cannot reach the server: ${err && err.message ? err.message : err}`);
    }
    if (!res.ok) throw await readError(res);
    return res;
  }

  async getJSON(path, opts) {
    const res = await this.request(path, opts);
    return res.json();
  }

  /** publish sends one message; resolves to {topic, seq, epoch, id, time}. */
  async publish(topic, payload, { contentType = 'text/plain; charset=utf-8', attrs = {}, signal } = {}) {
    const headers = { 'Content-Type': contentType };
    for (const [k, v] of Object.entries(attrs)) headers[`X-Ringcast-Attr-${k}`] = String(v);
    const res = await this.request(this.topicPath(topic), { method: 'POST', body: payload, headers, signal });
    return res.json();
  }

  /**
   * publishBatch sends several messages at once, all or nothing: lines is an
   * array of payloads (none may contain "\n") or a string with one per line.
   * Resolves to {topic, first_seq, last_seq, count}.
   */
  async publishBatch(topic, lines, { contentType = 'text/plain; charset=utf-8', signal } = {}) {
    const body = Array.isArray(lines) ? lines.join('\n') : String(lines);
    const res = await this.request(this.topicPath(topic, '/batch'), {
      method: 'POST',
      body,
      headers: { 'Content-Type': contentType },
      signal,
    });
    return res.json();
  }

  /** topics resolves to the GET /v1/topics list. */
  topics(opts) {
    return this.getJSON('/v1/topics', opts);
  }

  /** topic resolves to one topic's stats, or null when it does not exist (404). */
  async topic(name, opts) {
    try {
      return await this.getJSON(this.topicPath(name), opts);
    } catch (err) {
      if (err instanceof RingcastError && err.status === 404) return null;
      throw err;
    }
  }

  /** destinations resolves to the GET /v1/destinations list, or null when the server has none (404). */
  async destinations(opts) {
    try {
      return await this.getJSON('/v1/destinations', opts);
    } catch (err) {
      if (err instanceof RingcastError && err.status === 404) return null;
      throw err;
    }
  }

  /** subscribe starts a resuming subscription; see Subscription. */
  subscribe(topic, opts = {}) {
    return new Subscription(this, topic, opts);
  }
}

/**
 * Subscription keeps one topic subscribed until close(): it reconnects with
 * jittered exponential backoff and resumes at lastSeq + 1 with the epoch.
 *
 * Options:
 *   from       'latest' (default) | 'oldest' | a seq number
 *   policy     'drop-oldest' | 'disconnect' | 'block' (omitted: server default)
 *   epoch      the epoch `from` belongs to, if from is a seq
 *   transport  'ws' (default) | 'sse'
 *   resolveLatest  (default true) turn from=latest into head_seq + 1 before
 *              the first connect, so a reconnect before the first message
 *              still resumes without loss
 *   backoff    {base, max, min} in ms for backoffDelay
 *   onMessage(envelope)   each message, in seq order, duplicates removed
 *   onGap({from, to, epoch})       seqs from..to (inclusive) were skipped
 *   onReset({from, to, seq})       the topic's epoch changed from `from` to `to`;
 *                                  delivery restarts at seq
 *   onState({state, delay, attempt, reason, error, url})
 *   onError(RingcastError)         a refusal (401/403/400…) or a bad frame
 */
export class Subscription {
  constructor(client, topic, opts) {
    this.client = client;
    this.topic = topic;
    this.opts = opts;
    this.transport = opts.transport === 'sse' ? 'sse' : 'ws';
    this.policy = opts.policy || '';
    this.lastSeq = 0; // last seq delivered to onMessage, 0 = none yet
    this.epoch = opts.epoch || ''; // epoch of lastSeq (or of `from`)
    this.from = normalizeFrom(opts.from);
    this.expectSeq = typeof this.from === 'number' ? this.from : 0; // 0: no expectation
    this.state = '';
    this.attempt = 0;
    this.received = 0;
    this.closed = false;
    this._conn = null;
    this._timer = null;
    this._openedAt = 0;
    this._gotMessage = false;
    this._probe = null;
    this._start();
  }

  /** close ends the subscription for good. */
  close(reason = 'closed by you') {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this._timer);
    if (this._probe) this._probe.abort();
    this._teardown();
    this._setState(State.CLOSED, { reason });
  }

  /** reconnectNow skips the rest of a backoff wait (e.g. when the browser comes back online). */
  reconnectNow() {
    if (this.closed || this.state !== State.RECONNECTING) return;
    clearTimeout(this._timer);
    this._connect();
  }

  /** resumeParams returns the query values the next connect will use. */
  resumeParams() {
    if (this.lastSeq > 0) return { from: this.lastSeq + 1, epoch: this.epoch };
    if (typeof this.from === 'number') return { from: this.from, epoch: this.epoch };
    return { from: this.from, epoch: '' };
  }

  streamURL() {
    const { from, epoch } = this.resumeParams();
    const c = this.client;
    const u = new URL(c.url(c.topicPath(this.topic, this.transport === 'sse' ? '/sse' : '/ws'), {
      from,
      format: 'json',
      policy: this.policy,
      epoch,
      token: c.token,
    }));
    if (this.transport === 'ws') u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString();
  }

  async _start() {
    if (this.from === 'latest' && this.opts.resolveLatest !== false) {
      this._setState(State.CONNECTING, {});
      try {
        const t = await this.client.topic(this.topic);
        if (this.closed) return;
        if (t === null) {
          this.from = 1; // no topic yet: everything it will hold is new
          this.expectSeq = 1;
        } else if (typeof t.head_seq === 'number') {
          this.from = t.head_seq + 1;
          this.expectSeq = this.from;
          this.epoch = t.epoch || '';
        }
      } catch {
        if (this.closed) return;
        // Stats unavailable (old server, auth on stats): subscribe from latest.
      }
    }
    this._connect();
  }

  _setState(state, extra) {
    this.state = state;
    if (this.opts.onState) this.opts.onState({ state, attempt: this.attempt, ...extra });
  }

  _teardown() {
    const conn = this._conn;
    this._conn = null;
    if (!conn) return;
    conn.onopen = conn.onmessage = conn.onerror = conn.onclose = null;
    try {
      conn.close();
    } catch {
      // already closed
    }
  }

  _connect() {
    if (this.closed) return;
    const url = this.streamURL();
    this._setState(this.attempt === 0 ? State.CONNECTING : State.RECONNECTING, { delay: 0, url });
    this._openedAt = 0;
    this._gotMessage = false;
    let conn;
    try {
      conn = this.transport === 'sse' ? new this.client._EventSource(url) : new this.client._WebSocket(url);
    } catch (err) {
      this._fatal(new RingcastError(`cannot open ${url}: ${err.message}`), 'bad URL');
      return;
    }
    this._conn = conn;
    conn.onopen = () => {
      if (conn !== this._conn) return;
      this._openedAt = Date.now();
      this._setState(State.LIVE, { url });
    };
    conn.onmessage = (ev) => {
      if (conn !== this._conn) return;
      this._frame(ev.data);
    };
    if (this.transport === 'sse') {
      // A frame that is not valid UTF-8 comes as "event: b64".
      if (typeof conn.addEventListener === 'function') {
        conn.addEventListener('b64', (ev) => {
          if (conn !== this._conn) return;
          try {
            const bin = atob(ev.data.replace(/\s+/g, ''));
            this._frame(new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
          } catch {
            this._emitError(new RingcastError('received an SSE b64 event that does not decode'));
          }
        });
      }
      // EventSource retries by itself with its original URL; we want our own
      // resume point and backoff, so treat any error as a close.
      conn.onerror = () => {
        if (conn !== this._conn) return;
        this._closed({ code: 0, reason: '' });
      };
    } else {
      conn.onclose = (ev) => {
        if (conn !== this._conn) return;
        this._closed(ev);
      };
    }
  }

  _frame(data) {
    if (typeof data !== 'string') {
      this._emitError(new RingcastError('received a binary frame; expected a JSON envelope (format=json)'));
      return;
    }
    let m;
    try {
      m = JSON.parse(data);
    } catch {
      this._emitError(new RingcastError(`received a frame that is not JSON: ${data.slice(0, 80)}`));
      return;
    }
    this.accept(m);
  }

  /** accept runs one envelope through the seq/epoch bookkeeping (exported for tests). */
  accept(m) {
    const seq = Number(m.seq);
    if (!Number.isSafeInteger(seq) || seq < 1) {
      this._emitError(new RingcastError(`envelope without a valid seq: ${JSON.stringify(m).slice(0, 80)}`));
      return;
    }
    const epoch = typeof m.epoch === 'string' ? m.epoch : '';
    this._gotMessage = true;
    if (this.epoch && epoch && epoch !== this.epoch) {
      // The topic's history started over: old seqs mean nothing any more.
      if (this.opts.onReset) this.opts.onReset({ from: this.epoch, to: epoch, seq });
      this.epoch = epoch;
      this.lastSeq = seq;
      this.expectSeq = 0;
      this._deliver(m);
      return;
    }
    if (epoch) this.epoch = epoch;
    const want = this.lastSeq > 0 ? this.lastSeq + 1 : this.expectSeq;
    if (this.lastSeq > 0 && seq <= this.lastSeq) return; // duplicate after a resume
    if (want > 0 && seq > want && this.opts.onGap) {
      this.opts.onGap({ from: want, to: seq - 1, epoch: this.epoch });
    }
    this.lastSeq = seq;
    this.expectSeq = 0;
    this._deliver(m);
  }

  _deliver(m) {
    this.received++;
    if (this.opts.onMessage) this.opts.onMessage(m);
  }

  _emitError(err) {
    if (this.opts.onError) this.opts.onError(err);
  }

  _fatal(err, reason) {
    this._emitError(err);
    this.closed = true;
    this._teardown();
    this._setState(State.CLOSED, { reason, error: err });
  }

  _closed(ev) {
    const wasOpen = this._openedAt > 0;
    const lived = wasOpen ? Date.now() - this._openedAt : 0;
    this._teardown();
    if (this.closed) return;
    if (wasOpen && (lived >= 2000 || this._gotMessage)) this.attempt = 0;
    const why = closeReason(ev, wasOpen);
    if (!wasOpen) {
      // The handshake failed and the browser will not say why: ask with fetch.
      this._probeAndRetry(why);
      return;
    }
    this._retry(why, 0);
  }

  async _probeAndRetry(why) {
    const c = this.client;
    const u = new URL(this.streamURL());
    u.protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
    u.searchParams.delete('token'); // sent as a header instead
    const headers = {};
    if (c.token) headers.Authorization = `Bearer ${c.token}`;
    const ctl = typeof AbortController === 'function' ? new AbortController() : null;
    this._probe = ctl;
    const timer = setTimeout(() => ctl && ctl.abort(), 5000);
    let res = null;
    try {
      res = await c._fetch(u.toString(), { headers, signal: ctl ? ctl.signal : undefined, cache: 'no-store' });
    } catch {
      res = null; // server unreachable: retry
    } finally {
      clearTimeout(timer);
      this._probe = null;
    }
    if (this.closed) return;
    if (res && res.body && typeof res.body.cancel === 'function' && res.ok) {
      res.body.cancel().catch(() => {}); // an SSE probe that succeeded would stream forever
    }
    if (!res || res.ok) {
      this._retry(res ? why : 'server unreachable', 0);
      return;
    }
    const err = await readError(res);
    if (this.closed) return;
    if (isFatal(err)) {
      this._fatal(err, refusalReason(err));
      return;
    }
    this._retry(`${why} (HTTP ${err.status}${err.code ? ' ' + err.code : ''})`, err.retryAfter * 1000);
  }

  _retry(reason, atLeastMs) {
    const delay = Math.max(atLeastMs, backoffDelay(this.attempt, this.opts.backoff));
    this.attempt++;
    this._setState(State.RECONNECTING, { delay, reason, at: Date.now() + delay });
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._connect(), delay);
  }
}

function normalizeFrom(from) {
  if (from === undefined || from === null || from === '' || from === 'latest') return 'latest';
  if (from === 'oldest') return 'oldest';
  const n = Number(from);
  if (Number.isSafeInteger(n) && n >= 1) return n;
  throw new RingcastError(`from must be latest, oldest or a seq ≥ 1, not ${JSON.stringify(from)}`, {
    code: 'bad_request',
  });
}

// isFatal tells refusals a retry cannot fix (auth, bad query, unknown route)
// from trouble that may pass (draining, backpressure, a proxy hiccup). A GET
// without the upgrade headers may itself be refused with 400/426; that says
// nothing about the real handshake, so it is not fatal.
function isFatal(err) {
  if (err.status === 401 || err.status === 403 || err.status === 404) return true;
  if (err.status === 400) {
    if (err.code === 'bad_topic') return true;
    return !/websocket|upgrade|handshake|connection/i.test(err.message);
  }
  return false;
}

/** refusalReason turns a refused subscription into a sentence for people. */
export function refusalReason(err) {
  if (err.status === 401) return 'This server needs a token';
  if (err.status === 403) return 'Your token may not subscribe to this topic';
  if (err.status === 404) return 'The server has no such endpoint';
  return err.message;
}

function closeReason(ev, wasOpen) {
  const code = ev && ev.code;
  const text = ev && ev.reason ? `: ${ev.reason}` : '';
  if (!wasOpen) return 'could not connect';
  switch (code) {
    case 1000:
      return `closed by the server${text}`;
    case 1001:
      return `server going away${text}`;
    case 1006:
      return 'connection lost';
    case 1008:
      return `disconnected for falling behind${text}`;
    case 1011:
      return `server error${text}`;
    case 1013:
      return `server busy${text}`;
    default:
      return code ? `closed (${code})${text}` : 'connection lost';
  }
}
