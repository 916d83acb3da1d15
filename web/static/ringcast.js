// ringcast.js: the Ringcast JavaScript client. One dependency-free ES module
// for browsers and node >= 20, built only on the wire contract (API.md, v1).
// The server serves this very file at /v1/client.js; npm has it as `ringcast`;
// the built-in console uses it. Types: ringcast.d.ts.
//
// Subscriptions resume by seq: after any disconnect they reconnect with
// jittered exponential backoff at the last seq + 1 together with its epoch,
// so nothing accepted is missed without the caller hearing of it: a jump in
// seq is reported through onGap, a new epoch (the server's history started
// over) through onReset. A draining server says when to come back (a 1001
// close whose reason is "draining; reconnect in <ms> ms", or an SSE stream
// that ends after "retry: <ms>"); the subscription waits that long on top of
// its backoff, so a restart's subscribers come back spread out.
//
//   import { subscribe, publish } from '/v1/client.js';
//   const sub = subscribe('chat', {
//     from: 'latest',                       // 'oldest' | a seq
//     onMessage(m) { console.log(m.seq, m.data); },
//     onGap({ from, to }) { console.warn(`missed ${from}..${to}`); },
//     onReset({ previousEpoch, epoch, seq }) {},
//     onState({ state, transport, delay, reason }) {},
//   });
//   await publish('chat', 'hello');
//   sub.close();
//
// In node, pass a WebSocket implementation (the `ws` package) and the server:
//   import WebSocket from 'ws';
//   subscribe('chat', { baseURL: 'http://127.0.0.1:8080', WebSocket, onMessage });
// Without one, subscriptions use server-sent events read with fetch.

export const VERSION = '0.1.0';

/** An error answered by the server ({"error","code"}) or by the network. */
export class RingcastError extends Error {
  constructor(message, { status = 0, code = '', retryAfter = 0, closeCode = 0 } = {}) {
    super(message);
    this.name = 'RingcastError';
    this.status = status; // HTTP status, 0 when there was no HTTP answer
    this.code = code; // the contract's snake_case code, '' if none
    this.retryAfter = retryAfter; // seconds from Retry-After, 0 if absent
    this.closeCode = closeCode; // WebSocket close code, 0 if none
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
  return typeof name === 'string' && TOPIC_RE.test(name);
}

/**
 * backoffDelay returns the wait in ms before reconnect attempt n (0-based):
 * "full jitter" exponential backoff, uniform in [min, min(max, base*2^n)].
 */
export function backoffDelay(n, { base = 250, max = 15000, min = 100, random = Math.random } = {}) {
  const cap = Math.min(max, base * 2 ** Math.min(n, 30));
  return Math.round(min + random() * Math.max(0, cap - min));
}

/** Longest reconnect hint honoured, in ms; a larger one waits this long. */
const MAX_HINT = 60000;

/**
 * reconnectHint returns the wait in ms a draining server asked for when a
 * connection ended, or 0: a WebSocket close event with code 1001 and a
 * reason "draining; reconnect in <ms> ms", or the end of an SSE stream
 * whose last "retry" field was <ms> ({retry} in ev).
 */
export function reconnectHint(ev) {
  if (!ev) return 0;
  let ms = NaN;
  if (ev.code === 1001 && typeof ev.reason === 'string') {
    const m = /reconnect in (\d{1,9}) ms/.exec(ev.reason);
    if (m) ms = Number(m[1]);
  } else if (typeof ev.retry === 'number') {
    ms = ev.retry;
  }
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, MAX_HINT) : 0;
}

/** refusalReason turns a refused request into a sentence for people. */
export function refusalReason(err) {
  if (err.status === 401) return 'This server needs a token';
  if (err.status === 403) return 'Your token may not subscribe to this topic';
  if (err.status === 404) return 'The server has no such endpoint';
  return err.message;
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
  const retryAfter = Number.parseInt((res.headers && res.headers.get('Retry-After')) || '', 10) || 0;
  return new RingcastError(message || `${res.status} ${res.statusText || ''}`.trim(), {
    status: res.status,
    code,
    retryAfter,
  });
}

function badRequest(message) {
  return new RingcastError(message, { code: 'bad_request' });
}

function checkTopic(topic) {
  if (!validTopic(topic)) {
    throw new RingcastError(`topic ${JSON.stringify(topic)} is not a valid topic name (want [A-Za-z0-9_.-]{1,128})`, {
      code: 'bad_topic',
    });
  }
}

const noop = () => {};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** b64Bytes decodes standard base64 into a Uint8Array. */
function b64Bytes(b64) {
  const bin = atob(b64.replace(/\s+/g, ''));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * RingcastClient holds what every call needs: the server, the token and the
 * implementations of fetch, WebSocket and EventSource.
 */
export class RingcastClient {
  /**
   * @param {object} [opts]
   * @param {string} [opts.baseURL] server origin (and optional path prefix); default: this page's origin, else http://127.0.0.1:8080
   * @param {string} [opts.token] bearer token; '' for none
   * @param {Function} [opts.fetch] fetch implementation
   * @param {Function} [opts.WebSocket] WebSocket constructor (node: the `ws` package)
   * @param {Function} [opts.EventSource] EventSource constructor; absent: SSE is read with fetch
   */
  constructor(opts = {}) {
    const loc = globalThis.location;
    const origin = loc && /^https?:$/.test(loc.protocol) ? loc.origin : 'http://127.0.0.1:8080';
    this.baseURL = String(opts.baseURL || origin).replace(/\/+$/, '');
    this.token = opts.token || '';
    const f = opts.fetch || globalThis.fetch;
    this._fetch = f ? (...a) => f(...a) : null;
    this._WebSocket = opts.WebSocket || globalThis.WebSocket || null;
    this._EventSource = opts.EventSource || globalThis.EventSource || null;
  }

  /** setToken changes the token for calls and connections made from now on. */
  setToken(token) {
    this.token = token || '';
  }

  /** url builds an absolute http(s) URL for path with query params (undefined/null/'' skipped). */
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

  /** request does a fetch with the bearer token; a non-2xx answer throws a RingcastError. */
  async request(path, { method = 'GET', body, headers = {}, signal, token } = {}) {
    if (!this._fetch) throw new RingcastError('no fetch implementation: pass {fetch} in the options');
    const h = { ...headers };
    const tok = token !== undefined ? token : this.token;
    if (tok) h.Authorization = `Bearer ${tok}`;
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

  /**
   * publish sends one message: a string (sent as UTF-8) or bytes (Uint8Array,
   * ArrayBuffer, Blob). Resolves to {topic, seq, epoch, id, time}.
   */
  async publish(topic, data, { contentType, attrs = {}, signal, token } = {}) {
    checkTopic(topic);
    if (data === undefined || data === null || data === '' || data.byteLength === 0 || data.size === 0) {
      throw badRequest('Ringcast has no empty messages: data is empty');
    }
    const headers = {
      'Content-Type': contentType || (typeof data === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream'),
    };
    for (const [k, v] of Object.entries(attrs)) headers[`X-Ringcast-Attr-${k}`] = String(v);
    const res = await this.request(this.topicPath(topic), { method: 'POST', body: data, headers, signal, token });
    return res.json();
  }

  /**
   * publishBatch sends several messages at once, all or nothing. items is an
   * array of strings, none empty and none containing "\n" (each line of the
   * body is one message), or one string with a message per line. Resolves to
   * {topic, first_seq, last_seq, count}.
   */
  async publishBatch(topic, items, { contentType = 'text/plain; charset=utf-8', signal, token } = {}) {
    checkTopic(topic);
    let body;
    if (Array.isArray(items)) {
      items.forEach((it, i) => {
        if (typeof it !== 'string') throw badRequest(`publishBatch: item ${i} is not a string`);
        if (it === '') throw badRequest(`publishBatch: item ${i} is empty; Ringcast has no empty messages`);
        if (it.includes('\n')) throw badRequest(`publishBatch: item ${i} contains a newline, which would split it in two`);
      });
      body = items.join('\n');
    } else {
      body = String(items);
    }
    if (body.split('\n').every((l) => l === '')) throw badRequest('publishBatch: nothing to send');
    const res = await this.request(this.topicPath(topic, '/batch'), {
      method: 'POST',
      body,
      headers: { 'Content-Type': contentType },
      signal,
      token,
    });
    return res.json();
  }

  /** publisher opens a streaming publisher over WebSocket (mode=pub); see Publisher. */
  publisher(topic, opts = {}) {
    return new Publisher(this, topic, opts);
  }

  /** subscribe starts a resuming subscription; see Subscription. */
  subscribe(topic, opts = {}) {
    return new Subscription(this, topic, opts);
  }

  /** messages resolves to retained envelopes (GET /messages), oldest first. */
  messages(topic, { from, limit, epoch, signal, token } = {}) {
    checkTopic(topic);
    return this.getJSON(`${this.topicPath(topic, '/messages')}?${new URLSearchParams(clean({ from, limit, epoch }))}`, {
      signal,
      token,
    });
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
}

function clean(params) {
  const out = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') out[k] = String(v);
  return out;
}

// ---- module-level shortcuts ------------------------------------------------------

const CLIENT_OPTS = ['baseURL', 'token', 'fetch', 'WebSocket', 'EventSource'];

function clientFrom(opts) {
  if (opts && opts.client instanceof RingcastClient) return opts.client;
  const o = {};
  for (const k of CLIENT_OPTS) if (opts && opts[k] !== undefined) o[k] = opts[k];
  return new RingcastClient(o);
}

/** subscribe(topic, opts): a resuming subscription (see Subscription); opts may carry client options. */
export function subscribe(topic, opts = {}) {
  return clientFrom(opts).subscribe(topic, opts);
}

/** publish(topic, data, opts): one message over HTTP; resolves to {topic, seq, epoch, id, time}. */
export function publish(topic, data, opts = {}) {
  return clientFrom(opts).publish(topic, data, opts);
}

/** publishBatch(topic, items, opts): messages over HTTP, all or nothing; resolves to {topic, first_seq, last_seq, count}. */
export function publishBatch(topic, items, opts = {}) {
  return clientFrom(opts).publishBatch(topic, items, opts);
}

/** publisher(topic, opts): a streaming publisher over WebSocket (see Publisher). */
export function publisher(topic, opts = {}) {
  return clientFrom(opts).publisher(topic, opts);
}

// ---- subscribe ------------------------------------------------------------------------

/**
 * Subscription keeps one topic subscribed until close(): it reconnects with
 * jittered exponential backoff and resumes at lastSeq + 1 with the epoch.
 * On the wire it always asks for format=json, since resuming needs each
 * message's seq and epoch.
 *
 * Options:
 *   from       'latest' (default) | 'oldest' | a seq number
 *   epoch      the epoch `from` belongs to, if from is a seq
 *   format     'json' (default): onMessage(envelope) with the envelope as the
 *              server sent it; 'raw': onMessage(payload, envelope) with the
 *              payload as a string, or a Uint8Array when it is not UTF-8
 *   policy     'drop-oldest' | 'disconnect' | 'block' (omitted: the server's default)
 *   transport  'auto' (default: WebSocket, SSE when WebSocket is missing or
 *              refused) | 'ws' | 'sse'
 *   token      bearer token for this subscription (default: the client's)
 *   resolveLatest  (default true) turn from=latest into head_seq + 1 before
 *              the first connect, so a reconnect before the first message
 *              still resumes without loss
 *   backoff    {base, max, min} in ms for backoffDelay
 *   fallbackAfter  WebSocket handshakes refused in a row (server reachable,
 *              not an auth refusal) before 'auto' switches to SSE (default 3)
 *   signal     an AbortSignal that closes the subscription
 *   onMessage  each message, in seq order, duplicates removed
 *   onGap({from, to, count, epoch})   seqs from..to (inclusive) were not delivered
 *   onReset({previousEpoch, epoch, seq, lastSeq})  the topic's history started
 *              over; delivery goes on at seq of the new epoch
 *   onState({state, transport, attempt, delay, at, reason, error, url, hint})
 *              hint: ms a draining server asked to wait, included in delay
 *   onError(RingcastError)  a refusal (401/403/400…) or a bad frame
 */
export class Subscription {
  constructor(client, topic, opts = {}) {
    checkTopic(topic);
    this.client = client;
    this.topic = topic;
    this.opts = opts;
    this.format = opts.format === 'raw' ? 'raw' : 'json';
    if (opts.format !== undefined && opts.format !== 'raw' && opts.format !== 'json') {
      throw badRequest(`format must be json or raw, not ${JSON.stringify(opts.format)}`);
    }
    const want = opts.transport || 'auto';
    if (!['auto', 'ws', 'sse'].includes(want)) {
      throw badRequest(`transport must be auto, ws or sse, not ${JSON.stringify(opts.transport)}`);
    }
    this.auto = want === 'auto';
    this.transport = want === 'sse' || (this.auto && !client._WebSocket) ? 'sse' : 'ws';
    this.policy = opts.policy || '';
    this.from = normalizeFrom(opts.from);
    this.lastSeq = 0; // last seq delivered to onMessage, 0 = none yet
    this.epoch = opts.epoch || ''; // epoch of lastSeq (or of `from`)
    this.expectSeq = typeof this.from === 'number' ? this.from : 0; // 0: no expectation
    this.state = '';
    this.attempt = 0;
    this.received = 0;
    this.closed = false;
    this._refusals = 0; // WebSocket handshakes refused in a row
    this._conn = null;
    this._timer = null;
    this._openedAt = 0;
    this._gotMessage = false;
    this._probe = null;
    this._resolveDone = null;
    /** done resolves with {reason, error} once the subscription has closed. */
    this.done = new Promise((resolve) => {
      this._resolveDone = resolve;
    });
    if (opts.signal) {
      if (opts.signal.aborted) {
        queueMicrotask(() => this.close('aborted'));
      } else {
        opts.signal.addEventListener('abort', () => this.close('aborted'), { once: true });
      }
    }
    if (!this.closed) this._start();
  }

  /** close ends the subscription for good. */
  close(reason = 'closed by you') {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this._timer);
    if (this._probe) this._probe.abort();
    this._teardown();
    this._setState(State.CLOSED, { reason });
    this._resolveDone({ reason, error: null });
  }

  /** reconnectNow skips the rest of a backoff wait (e.g. when the browser comes back online). */
  reconnectNow() {
    if (this.closed || this.state !== State.RECONNECTING || this._conn) return;
    clearTimeout(this._timer);
    this._connect();
  }

  /** resumeParams returns the from and epoch the next connect will use. */
  resumeParams() {
    if (this.lastSeq > 0) return { from: this.lastSeq + 1, epoch: this.epoch };
    if (typeof this.from === 'number') return { from: this.from, epoch: this.epoch };
    return { from: this.from, epoch: '' };
  }

  get token() {
    return this.opts.token !== undefined ? this.opts.token || '' : this.client.token;
  }

  /** streamURL returns the URL the next connect will use. */
  streamURL({ withToken = true } = {}) {
    const { from, epoch } = this.resumeParams();
    const c = this.client;
    const u = new URL(
      c.url(c.topicPath(this.topic, this.transport === 'sse' ? '/sse' : '/ws'), {
        from,
        format: 'json',
        policy: this.policy,
        epoch,
        token: withToken ? this.token : '',
      }),
    );
    if (this.transport === 'ws') u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString();
  }

  async _start() {
    if (this.from === 'latest' && this.opts.resolveLatest !== false) {
      this._setState(State.CONNECTING, {});
      try {
        const t = await this.client.topic(this.topic, { token: this.token });
        if (this.closed) return;
        if (t === null) {
          this.from = 1; // no topic yet: everything it will hold is new
          this.expectSeq = 1;
        } else if (typeof t.head_seq === 'number') {
          this.from = t.head_seq + 1;
          this.expectSeq = this.from;
          this.epoch = t.epoch || '';
        }
      } catch (err) {
        if (this.closed) return;
        if (err instanceof RingcastError && (err.status === 401 || err.status === 403) && !this.token) {
          this._fatal(err, refusalReason(err));
          return;
        }
        // Stats unavailable (no permission to read them, network trouble):
        // subscribe from latest; the first message sets the resume point.
      }
    }
    this._connect();
  }

  _setState(state, extra = {}) {
    this.state = state;
    if (this.opts.onState) {
      try {
        this.opts.onState({ state, transport: this.transport, attempt: this.attempt, ...extra });
      } catch (err) {
        reportCallbackError(err);
      }
    }
  }

  _teardown() {
    const conn = this._conn;
    this._conn = null;
    if (!conn) return;
    conn.onopen = conn.onmessage = conn.onclose = null;
    // Keep an error listener: the ws package throws an 'error' event nobody
    // listens to (closing a socket that is still connecting emits one).
    conn.onerror = noop;
    try {
      conn.close();
    } catch {
      // already closed
    }
  }

  _open(url) {
    const c = this.client;
    if (this.transport === 'ws') {
      if (!c._WebSocket) throw new Error('no WebSocket implementation: pass {WebSocket} (node: the ws package) or use transport sse');
      return new c._WebSocket(url);
    }
    if (c._EventSource) return new c._EventSource(url);
    if (!c._fetch) throw new Error('neither EventSource nor fetch is available for SSE');
    // No EventSource (node): read the stream with fetch, token as a header.
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return new FetchEventSource(this.streamURL({ withToken: false }), { fetch: c._fetch, headers });
  }

  _connect() {
    if (this.closed) return;
    const url = this.streamURL();
    this._setState(this.attempt === 0 ? State.CONNECTING : State.RECONNECTING, { delay: 0, url });
    this._openedAt = 0;
    this._gotMessage = false;
    let conn;
    try {
      conn = this._open(url);
    } catch (err) {
      this._fatal(new RingcastError(`cannot open ${url}: ${err.message}`), err.message);
      return;
    }
    this._conn = conn;
    conn.onopen = () => {
      if (conn !== this._conn) return;
      this._openedAt = Date.now();
      if (this.transport === 'ws') this._refusals = 0;
      this._setState(State.LIVE, { url });
    };
    conn.onmessage = (ev) => {
      if (conn !== this._conn) return;
      this._frame(ev.data);
    };
    if (this.transport === 'sse') {
      // EventSource retries by itself with its original URL; we want our own
      // resume point and backoff, so any error closes it.
      conn.onerror = () => {
        if (conn !== this._conn) return;
        // FetchEventSource keeps the stream's last retry field (a draining
        // server's hint); a browser's EventSource does not expose it.
        this._closed({ code: 0, reason: '', retry: conn.retry }, conn.refusal || null);
      };
    } else {
      conn.onerror = noop; // the close event that follows says what happened
      conn.onclose = (ev) => {
        if (conn !== this._conn) return;
        this._closed(ev, null);
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

  /** accept runs one envelope through the seq/epoch bookkeeping (public for tests and replays). */
  accept(m) {
    const seq = Number(m && m.seq);
    if (!Number.isSafeInteger(seq) || seq < 1) {
      this._emitError(new RingcastError(`envelope without a valid seq: ${JSON.stringify(m).slice(0, 80)}`));
      return;
    }
    const epoch = typeof m.epoch === 'string' ? m.epoch : '';
    this._gotMessage = true;
    if (this.epoch && epoch && epoch !== this.epoch) {
      // The topic's history started over: old seqs mean nothing any more.
      const previousEpoch = this.epoch;
      const lastSeq = this.lastSeq;
      this.epoch = epoch;
      this.lastSeq = 0;
      this.expectSeq = 1;
      this._call('onReset', { previousEpoch, epoch, seq, lastSeq });
    }
    if (epoch) this.epoch = epoch;
    if (this.lastSeq > 0 && seq <= this.lastSeq) return; // duplicate after a resume
    const want = this.lastSeq > 0 ? this.lastSeq + 1 : this.expectSeq;
    if (want > 0 && seq > want) {
      this._call('onGap', { from: want, to: seq - 1, count: seq - want, epoch: this.epoch });
    }
    this.lastSeq = seq;
    this.expectSeq = 0;
    this.received++;
    if (this.format === 'raw') {
      let payload = '';
      if (typeof m.data === 'string') payload = m.data;
      else if (typeof m.data_b64 === 'string') payload = b64Bytes(m.data_b64);
      this._call('onMessage', payload, m);
    } else {
      this._call('onMessage', m);
    }
  }

  _call(name, ...args) {
    const f = this.opts[name];
    if (!f) return;
    try {
      f(...args);
    } catch (err) {
      // A throwing callback must not break the bookkeeping of the next message.
      reportCallbackError(err);
    }
  }

  _emitError(err) {
    this._call('onError', err);
  }

  _fatal(err, reason) {
    this._emitError(err);
    this.closed = true;
    clearTimeout(this._timer);
    this._teardown();
    this._setState(State.CLOSED, { reason, error: err });
    this._resolveDone({ reason, error: err });
  }

  _closed(ev, refusal) {
    const wasOpen = this._openedAt > 0;
    const lived = wasOpen ? Date.now() - this._openedAt : 0;
    this._teardown();
    if (this.closed) return;
    if (wasOpen && (lived >= 2000 || this._gotMessage)) this.attempt = 0;
    const why = closeReason(ev, wasOpen);
    if (refusal) {
      // The fetch-based SSE reader saw the HTTP answer itself.
      this._refused(refusal, why);
      return;
    }
    if (!wasOpen) {
      // The handshake failed and WebSocket/EventSource will not say why: ask with fetch.
      this._probeAndRetry(why);
      return;
    }
    this._retry(why, 0, reconnectHint(ev));
  }

  async _probeAndRetry(why) {
    const c = this.client;
    if (!c._fetch) {
      this._retry(why, 0);
      return;
    }
    const u = new URL(this.streamURL({ withToken: false }));
    u.protocol = u.protocol === 'wss:' ? 'https:' : u.protocol === 'ws:' ? 'http:' : u.protocol;
    const headers = {};
    if (this.token) headers.Authorization = `Bearer ${this.token}`; // a header, not in the URL
    const ctl = typeof AbortController === 'function' ? new AbortController() : null;
    this._probe = ctl;
    const timer = setTimeout(() => ctl && ctl.abort(), 5000);
    let res = null;
    try {
      res = await c._fetch(u.toString(), { headers, signal: ctl ? ctl.signal : undefined, cache: 'no-store' });
    } catch {
      res = null; // server unreachable
    } finally {
      clearTimeout(timer);
      this._probe = null;
    }
    if (this.closed) return;
    if (!res) {
      this._retry('server unreachable', 0);
      return;
    }
    if (res.ok) {
      // A probe that succeeded (SSE) would stream forever.
      if (res.body && typeof res.body.cancel === 'function') res.body.cancel().catch(() => {});
      this._countRefusal(res.status);
      this._retry(why, 0);
      return;
    }
    const err = await readError(res);
    if (this.closed) return;
    this._refused(err, why);
  }

  _refused(err, why) {
    if (isFatal(err)) {
      this._fatal(err, refusalReason(err));
      return;
    }
    this._countRefusal(err.status);
    this._retry(`${why} (HTTP ${err.status}${err.code ? ' ' + err.code : ''})`, err.retryAfter * 1000);
  }

  // _countRefusal notes a WebSocket handshake that failed while the server
  // answered plain HTTP; after fallbackAfter in a row, 'auto' switches to SSE
  // (a proxy or a browser policy that does not allow WebSocket).
  _countRefusal(status) {
    if (!this.auto || this.transport !== 'ws' || status === 503 || status === 429) return;
    this._refusals++;
    const limit = this.opts.fallbackAfter === undefined ? 3 : this.opts.fallbackAfter;
    if (this._refusals >= limit) {
      this.transport = 'sse';
      this.attempt = 0;
      this._fellBack = true;
    }
  }

  // _retry schedules the next connect after the backoff (at least
  // atLeastMs), plus hintMs when a draining server asked for it.
  _retry(reason, atLeastMs, hintMs = 0) {
    if (this._fellBack) {
      this._fellBack = false;
      reason = `WebSocket refused ${this._refusals} times; using server-sent events`;
    }
    const delay = Math.max(atLeastMs, backoffDelay(this.attempt, this.opts.backoff)) + hintMs;
    this.attempt++;
    const extra = { delay, reason, at: Date.now() + delay };
    if (hintMs > 0) extra.hint = hintMs;
    this._setState(State.RECONNECTING, extra);
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this._connect(), delay);
  }
}

function reportCallbackError(err) {
  // Surface it without breaking the client, like an event listener's error.
  setTimeout(() => {
    throw err;
  }, 0);
}

function normalizeFrom(from) {
  if (from === undefined || from === null || from === '' || from === 'latest') return 'latest';
  if (from === 'oldest') return 'oldest';
  const n = typeof from === 'string' && /^\d+$/.test(from) ? Number(from) : from;
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 1) return n;
  throw badRequest(`from must be latest, oldest or a seq >= 1, not ${JSON.stringify(from)}`);
}

// isFatal tells refusals a retry cannot fix (auth, bad query, unknown route)
// from trouble that may pass (draining, backpressure, a proxy hiccup). A GET
// without the upgrade headers is itself refused with 400/426; that says
// nothing about the real handshake, so it is not fatal.
function isFatal(err) {
  if (err.status === 401 || err.status === 403 || err.status === 404) return true;
  if (err.status === 400) {
    if (err.code === 'bad_topic') return true;
    return !/websocket|upgrade|handshake|connection/i.test(err.message);
  }
  return false;
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

/**
 * FetchEventSource reads a text/event-stream with fetch, for runtimes
 * without EventSource (node). It has the parts of EventSource that
 * Subscription uses: onopen, onmessage, onerror, addEventListener, close.
 * It does not reconnect by itself; `refusal` holds the RingcastError of a
 * non-2xx answer.
 */
export class FetchEventSource {
  constructor(url, { fetch, headers = {} }) {
    this.url = url;
    this.readyState = 0;
    this.refusal = null;
    this.retry = undefined; // ms of the last "retry" field, if any
    this.onopen = this.onmessage = this.onerror = null;
    this._listeners = new Map();
    this._ctl = new AbortController();
    this._run(fetch, headers);
  }

  addEventListener(type, fn) {
    if (!this._listeners.has(type)) this._listeners.set(type, []);
    this._listeners.get(type).push(fn);
  }

  close() {
    this.readyState = 2;
    this._ctl.abort();
  }

  _dispatch(type, ev) {
    if (this.readyState === 2) return;
    if (type === 'message' && this.onmessage) this.onmessage(ev);
    for (const fn of this._listeners.get(type) || []) fn(ev);
  }

  _fail() {
    if (this.readyState === 2) return;
    this.readyState = 2;
    if (this.onerror) this.onerror({ type: 'error' });
  }

  async _run(fetch, headers) {
    let res;
    try {
      res = await fetch(this.url, {
        headers: { Accept: 'text/event-stream', ...headers },
        signal: this._ctl.signal,
        cache: 'no-store',
      });
    } catch {
      this._fail();
      return;
    }
    if (!res.ok) {
      this.refusal = await readError(res);
      this._fail();
      return;
    }
    if (this.readyState === 2) return;
    this.readyState = 1;
    if (this.onopen) this.onopen({ type: 'open' });
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    let data = [];
    let event = '';
    let id = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let nl;
        while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
          if (buf[nl] === '\r' && nl === buf.length - 1) break; // maybe half of \r\n
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1));
          if (line === '') {
            if (data.length) this._dispatch(event || 'message', { type: event || 'message', data: data.join('\n'), lastEventId: id });
            data = [];
            event = '';
            continue;
          }
          if (line.startsWith(':')) continue; // heartbeat comment
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'data') data.push(value);
          else if (field === 'event') event = value;
          else if (field === 'id') id = value;
          else if (field === 'retry' && /^\d{1,9}$/.test(value)) this.retry = Number(value);
        }
      }
    } catch {
      // aborted or the connection broke
    }
    this._fail();
  }
}

// ---- publish over WebSocket -------------------------------------------------------------

/**
 * Publisher streams messages over one WebSocket (mode=pub): each send() is
 * one frame, i.e. one message (a string goes as a text frame, bytes as a
 * binary frame). send() resolves once the socket's bufferedAmount is below
 * highWaterMark again, so `for (...) await p.send(x)` never buffers more
 * than about highWaterMark bytes in the client.
 *
 * A message is accepted when the server has read it off the socket; frames
 * still buffered when the connection drops may not be. The publisher does
 * not reconnect by itself (it cannot know which frames were accepted); after
 * a drop, send() rejects and `closed` tells why.
 *
 * Options: highWaterMark (bytes, default 1 MiB), pollInterval (ms, default
 * 10), token, attrs are not supported per frame (use the HTTP publish).
 */
export class Publisher {
  constructor(client, topic, { highWaterMark = 1 << 20, pollInterval = 10, token } = {}) {
    checkTopic(topic);
    if (!client._WebSocket) {
      throw new RingcastError('no WebSocket implementation: pass {WebSocket} (node: the ws package)');
    }
    this.client = client;
    this.topic = topic;
    this.highWaterMark = highWaterMark;
    this.pollInterval = pollInterval;
    this.sent = 0;
    this.error = null;
    this._token = token !== undefined ? token || '' : client.token;
    const u = new URL(client.url(client.topicPath(topic, '/ws'), { mode: 'pub', token: this._token }));
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    this.url = u.toString();
    this._opened = false;
    let resolveClosed;
    /** closed resolves with {code, reason, error} when the connection has ended. */
    this.closed = new Promise((r) => {
      resolveClosed = r;
    });
    /** ready resolves when the connection is open, or rejects with why it is not. */
    this.ready = new Promise((resolve, reject) => {
      const ws = new client._WebSocket(this.url);
      this._ws = ws;
      ws.onopen = () => {
        this._opened = true;
        resolve();
      };
      ws.onerror = noop; // the close event that follows says what happened
      ws.onclose = async (ev) => {
        const code = ev ? ev.code : 0;
        const reason = ev && ev.reason ? ev.reason : '';
        if (!this._opened) {
          this.error = await this._probe();
          reject(this.error);
        } else if (!this._closing || code !== 1000) {
          this.error = new RingcastError(publishCloseReason(code, reason), { closeCode: code });
        }
        this._ended = true;
        resolveClosed({ code, reason, error: this.error });
      };
    });
    this.ready.catch(() => {}); // observed through send() and closed
  }

  /** bufferedAmount is the bytes queued in the socket and not yet sent. */
  get bufferedAmount() {
    return this._ws ? this._ws.bufferedAmount : 0;
  }

  _check() {
    if (this.error) throw this.error;
    if (this._ended || this._closing) throw new RingcastError('the publisher is closed');
  }

  /** send queues one message and resolves when the buffer is below highWaterMark. */
  async send(data) {
    await this.ready;
    this._check();
    if (data === undefined || data === null || data === '' || data.byteLength === 0 || data.size === 0) {
      throw badRequest('Ringcast has no empty messages: data is empty');
    }
    this._ws.send(data);
    this.sent++;
    await this._waitBelow(this.highWaterMark);
  }

  /** flush resolves when every queued byte has been handed to the network. */
  async flush() {
    await this.ready;
    await this._waitBelow(1);
  }

  async _waitBelow(mark) {
    while (this._ws.bufferedAmount >= mark) {
      if (this.error) throw this.error;
      if (this._ended) throw new RingcastError('the connection closed before the buffer drained');
      await sleep(this.pollInterval);
    }
    if (this.error) throw this.error;
  }

  /** close flushes, then closes the connection normally; resolves with closed's value. */
  async close() {
    try {
      await this.ready;
    } catch {
      return this.closed;
    }
    if (!this._ended && !this._closing) {
      try {
        await this._waitBelow(1);
      } catch {
        // closed meanwhile: report through `closed`
      }
      this._closing = true;
      try {
        this._ws.close(1000);
      } catch {
        // already closed
      }
    }
    return this.closed;
  }

  async _probe() {
    const c = this.client;
    if (!c._fetch) return new RingcastError(`cannot open ${this.url}`);
    const u = new URL(this.url);
    u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
    u.searchParams.delete('token');
    const headers = {};
    if (this._token) headers.Authorization = `Bearer ${this._token}`;
    try {
      const res = await c._fetch(u.toString(), { headers, cache: 'no-store' });
      const err = await readError(res);
      if (err.status === 400 && !isFatal(err)) return new RingcastError(`cannot open a WebSocket to ${u.origin}`);
      return err;
    } catch (err) {
      return new RingcastError(`cannot reach the server: ${err && err.message ? err.message : err}`);
    }
  }
}

function publishCloseReason(code, reason) {
  const text = reason ? `: ${reason}` : '';
  switch (code) {
    case 1001:
      return `the server is going away${text}; frames still buffered may not have been accepted`;
    case 1007:
      return `the server refused a text frame that is not valid UTF-8${text}`;
    case 1009:
      return `the server refused a frame over --max-message-bytes${text}`;
    default:
      return `the connection closed (${code || 'no code'})${text}; frames still buffered may not have been accepted`;
  }
}
