// Behaviour tests for the console's DOM-free modules and the client's
// bookkeeping, with fakes for fetch and WebSocket; run by web_test.go with
// `node --test`. The client against a real server: e2e/client.test.mjs.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { normalize } from '../static/destinations.js';
import { b64Size, b64ToBytes, formatTime, hexDump, parseTime, payloadOf, preview, utf8Size } from '../static/format.js';
import {
  Publisher,
  RingcastClient,
  RingcastError,
  State,
  backoffDelay,
  publishBatch,
  subscribe,
  validTopic,
} from '../static/ringcast.js';
import { RateTracker } from '../static/topics.js';

// ---- fakes ----------------------------------------------------------------

class FakeWS {
  static all = [];
  constructor(url) {
    this.url = url;
    this.closed = false;
    FakeWS.all.push(this);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen && this.onopen({});
  }
  send(env) {
    this.onmessage && this.onmessage({ data: JSON.stringify(env) });
  }
  drop(code = 1006, reason = '') {
    this.onclose && this.onclose({ code, reason });
  }
}

function jsonResponse(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

/** fakeFetch answers by path; records every call. */
function fakeFetch(routes) {
  const calls = [];
  const f = async (url, init = {}) => {
    const u = new URL(url);
    calls.push({ url: u, init });
    const h = routes[`${init.method || 'GET'} ${u.pathname}`] || routes[u.pathname];
    if (!h) return jsonResponse(404, { error: 'not found', code: 'not_found' });
    return h(u, init);
  };
  f.calls = calls;
  return f;
}

function newClient(routes = {}, token = '') {
  FakeWS.all = [];
  const fetch = fakeFetch(routes);
  const c = new RingcastClient({ baseURL: 'http://rc.test:8080', token, fetch, WebSocket: FakeWS });
  return { c, fetch };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** until waits for cond (timers and promises of the client have to run first; a loaded machine is slow). */
async function until(cond, what = 'condition', ms = 10000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick(1);
  }
}
const fastBackoff = { base: 1, max: 1, min: 0 };

function env(seq, epoch = 'e1', data = `m${seq}`) {
  return { topic: 't', seq, epoch, id: `id${seq}`, time: '2025-01-02T03:04:05.123456789Z', data };
}

function recorder() {
  const r = { msgs: [], gaps: [], resets: [], states: [], errors: [] };
  r.opts = {
    onMessage: (m) => r.msgs.push(m.seq),
    onGap: (g) => r.gaps.push([g.from, g.to]),
    onReset: (x) => r.resets.push([x.previousEpoch, x.epoch, x.seq]),
    onState: (s) => r.states.push(s),
    onError: (e) => r.errors.push(e),
    backoff: fastBackoff,
  };
  return r;
}

// ---- client -----------------------------------------------------------------

test('latest is resolved to head_seq+1 with the epoch, and the URL carries format, policy, token', async () => {
  const { c } = newClient({ '/v1/topics/t': () => jsonResponse(200, { topic: 't', head_seq: 41, epoch: 'e1' }) }, 's3cr3t');
  const r = recorder();
  const sub = c.subscribe('t', { from: 'latest', policy: 'disconnect', ...r.opts });
  await tick();
  assert.equal(FakeWS.all.length, 1);
  const u = new URL(FakeWS.all[0].url);
  assert.equal(u.protocol, 'ws:');
  assert.equal(u.pathname, '/v1/topics/t/ws');
  assert.equal(u.searchParams.get('from'), '42');
  assert.equal(u.searchParams.get('epoch'), 'e1');
  assert.equal(u.searchParams.get('format'), 'json');
  assert.equal(u.searchParams.get('policy'), 'disconnect');
  assert.equal(u.searchParams.get('token'), 's3cr3t');
  FakeWS.all[0].open();
  assert.equal(r.states.at(-1).state, State.LIVE);
  sub.close();
  assert.equal(r.states.at(-1).state, State.CLOSED);
});

test('a subscription that never delivered resumes where it was about to start', async () => {
  const { c } = newClient({});
  const sub = c.subscribe('t', { from: 3, epoch: 'e2', ...recorder().opts });
  await tick();
  sub.close();
  assert.deepEqual(sub.resumeParams(), { from: 3, epoch: 'e2' });
  const again = c.subscribe('t', { ...sub.resumeParams(), ...recorder().opts });
  await tick();
  assert.equal(new URL(FakeWS.all.at(-1).url).searchParams.get('epoch'), 'e2');
  again.close();
});

test('an unknown topic subscribes from seq 1', async () => {
  const { c } = newClient({});
  const sub = c.subscribe('fresh', { from: 'latest', ...recorder().opts });
  await tick();
  assert.equal(new URL(FakeWS.all[0].url).searchParams.get('from'), '1');
  sub.close();
});

test('gaps, duplicates and epoch resets are reported; resume uses last seq + 1 and epoch', async () => {
  const { c } = newClient({});
  const r = recorder();
  const sub = c.subscribe('t', { from: 5, ...r.opts });
  await tick();
  let ws = FakeWS.all[0];
  assert.equal(new URL(ws.url).searchParams.get('from'), '5');
  assert.equal(new URL(ws.url).searchParams.get('epoch'), null);
  ws.open();
  ws.send(env(8)); // asked for 5: 5..7 are gone
  ws.send(env(9));
  ws.send(env(9)); // duplicate
  ws.send(env(12));
  assert.deepEqual(r.msgs, [8, 9, 12]);
  assert.deepEqual(r.gaps, [[5, 7], [10, 11]]);

  ws.drop(1001, 'going away');
  assert.equal(r.states.at(-1).state, State.RECONNECTING);
  assert.ok(r.states.at(-1).delay >= 0);
  await until(() => FakeWS.all.length === 2, 'the reconnect');
  ws = FakeWS.all[1];
  const u = new URL(ws.url);
  assert.equal(u.searchParams.get('from'), '13');
  assert.equal(u.searchParams.get('epoch'), 'e1');
  ws.open();
  ws.send(env(1, 'e2')); // the server restarted: a new history
  ws.send(env(2, 'e2'));
  assert.deepEqual(r.resets, [['e1', 'e2', 1]]);
  assert.deepEqual(r.msgs, [8, 9, 12, 1, 2]);
  assert.deepEqual(r.gaps, [[5, 7], [10, 11]], 'a reset is not a gap');
  assert.deepEqual(sub.resumeParams(), { from: 3, epoch: 'e2' });
  sub.close();
});

test('a refused handshake is probed with fetch: 401 closes with a clear reason', async () => {
  const { c, fetch } = newClient({
    '/v1/topics/t': () => jsonResponse(401, { error: 'token required', code: 'unauthorized' }),
    '/v1/topics/t/ws': () => jsonResponse(401, { error: 'token required', code: 'unauthorized' }),
  });
  const r = recorder();
  c.subscribe('t', { from: 'oldest', ...r.opts });
  await tick();
  FakeWS.all[0].drop(1006);
  await until(() => r.states.at(-1).state === State.CLOSED, 'closed');
  const probe = fetch.calls.find((x) => x.url.pathname === '/v1/topics/t/ws');
  assert.ok(probe, 'probed the WebSocket URL over HTTP');
  assert.equal(probe.url.protocol, 'http:');
  assert.equal(r.states.at(-1).state, State.CLOSED);
  assert.equal(r.states.at(-1).reason, 'This server needs a token');
  assert.equal(r.errors[0].status, 401);
  await tick(10);
  assert.equal(FakeWS.all.length, 1, 'no reconnect after 401');
});

test('403 says the token may not subscribe; the token goes as a Bearer header on the probe', async () => {
  const { c, fetch } = newClient(
    { '/v1/topics/t/ws': () => jsonResponse(403, { error: 'not allowed', code: 'forbidden' }) },
    'tok',
  );
  const r = recorder();
  c.subscribe('t', { from: 'oldest', ...r.opts });
  await tick();
  FakeWS.all[0].drop(1006);
  await until(() => r.states.at(-1).state === State.CLOSED, 'closed');
  const probe = fetch.calls.find((x) => x.url.pathname === '/v1/topics/t/ws');
  assert.equal(probe.init.headers.Authorization, 'Bearer tok');
  assert.equal(probe.url.searchParams.get('token'), null);
  assert.equal(r.states.at(-1).reason, 'Your token may not subscribe to this topic');
});

test('a probe refused only for lacking upgrade headers, or an unreachable server, retries', async () => {
  let up = false;
  const { c } = newClient({
    '/v1/topics/t/ws': () => {
      if (!up) throw new TypeError('connection refused');
      return jsonResponse(400, { error: 'websocket: not a websocket handshake', code: 'bad_request' });
    },
  });
  const r = recorder();
  const sub = c.subscribe('t', { from: 'oldest', ...r.opts });
  await tick();
  FakeWS.all[0].drop(1006);
  await until(() => FakeWS.all.length === 2, 'the second attempt');
  assert.ok(r.states.some((s) => s.state === State.RECONNECTING && /unreachable/.test(s.reason || '')));
  up = true;
  FakeWS.all[1].drop(1006);
  await until(() => FakeWS.all.length === 3, 'the third attempt');
  assert.equal(r.errors.length, 0);
  sub.close();
});

test('SSE uses the /sse URL with the token and resumes the same way', async () => {
  class FakeES extends FakeWS {}
  FakeWS.all = [];
  const c = new RingcastClient({ baseURL: 'https://rc.test', token: 'x', fetch: fakeFetch({}), EventSource: FakeES });
  const r = recorder();
  const sub = c.subscribe('t', { from: 'oldest', transport: 'sse', ...r.opts });
  await tick();
  const es = FakeWS.all[0];
  const u = new URL(es.url);
  assert.equal(u.protocol, 'https:');
  assert.equal(u.pathname, '/v1/topics/t/sse');
  assert.equal(u.searchParams.get('token'), 'x');
  es.open();
  es.send(env(1));
  es.onerror({});
  assert.ok(es.closed, 'the EventSource is closed so it does not retry with its old URL');
  await until(() => FakeWS.all.length === 2, 'the reconnect');
  assert.equal(new URL(FakeWS.all[1].url).searchParams.get('from'), '2');
  sub.close();
});

test('publish and publishBatch send the bearer token and the payload as typed', async () => {
  const { c, fetch } = newClient(
    {
      'POST /v1/topics/a.b': async (u, init) => jsonResponse(201, { topic: 'a.b', seq: 7, epoch: 'e', body: init.body }),
      'POST /v1/topics/a.b/batch': async () => jsonResponse(201, { topic: 'a.b', first_seq: 8, last_seq: 9, count: 2 }),
      'POST /v1/topics/full': async () => jsonResponse(503, { error: 'ring full', code: 'backpressure' }, { 'Retry-After': '2' }),
    },
    'tok',
  );
  const r = await c.publish('a.b', ' hi there \n', { attrs: { who: 'me' } });
  assert.equal(r.seq, 7);
  assert.equal(r.body, ' hi there \n');
  assert.equal(fetch.calls[0].init.headers.Authorization, 'Bearer tok');
  assert.equal(fetch.calls[0].init.headers['X-Ringcast-Attr-who'], 'me');
  const b = await c.publishBatch('a.b', ['one', 'two']);
  assert.equal(b.count, 2);
  assert.equal(fetch.calls[1].init.body, 'one\ntwo');
  await assert.rejects(c.publish('full', 'x'), (e) => {
    assert.ok(e instanceof RingcastError);
    assert.equal(e.status, 503);
    assert.equal(e.code, 'backpressure');
    assert.equal(e.retryAfter, 2);
    return true;
  });
  assert.equal(await c.destinations(), null, '404 means no destinations');
});

test('backoff is jittered, grows and is capped', () => {
  for (let n = 0; n < 20; n++) {
    const d = backoffDelay(n, { base: 250, max: 15000, min: 100 });
    assert.ok(d >= 100 && d <= Math.min(15000, 250 * 2 ** n), `attempt ${n}: ${d}`);
  }
  assert.equal(backoffDelay(30, { random: () => 1 }), 15000);
  assert.equal(backoffDelay(0, { random: () => 0 }), 100);
});

test('topic names and from values are checked', () => {
  assert.ok(validTopic('orders.eu.created'));
  assert.ok(!validTopic('a b'));
  assert.ok(!validTopic(''));
  assert.ok(!validTopic('x'.repeat(129)));
  const { c } = newClient({});
  assert.throws(() => c.subscribe('t', { from: 0 }), RingcastError);
  assert.throws(() => c.subscribe('t', { from: 'soon' }), RingcastError);
  assert.throws(() => c.subscribe('a b', {}), (e) => e.code === 'bad_topic');
  assert.throws(() => c.subscribe('t', { transport: 'carrier-pigeon' }), RingcastError);
  assert.throws(() => c.subscribe('t', { format: 'xml' }), RingcastError);
});

test('a reset whose first seq is past 1 also reports the seqs of the new epoch it missed', async () => {
  const { c } = newClient({});
  const r = recorder();
  const sub = c.subscribe('t', { from: 1, ...r.opts });
  await tick();
  const ws = FakeWS.all[0];
  ws.open();
  ws.send(env(1));
  ws.send(env(2));
  ws.send(env(40, 'e2')); // lapped in the new epoch before we got there
  assert.deepEqual(r.resets, [['e1', 'e2', 40]]);
  assert.deepEqual(r.gaps, [[1, 39]]);
  assert.deepEqual(r.msgs, [1, 2, 40]);
  sub.close();
});

test('format raw hands over the payload, decoded to bytes when it is not UTF-8', async () => {
  const { c } = newClient({});
  const got = [];
  const sub = c.subscribe('t', { from: 1, format: 'raw', onMessage: (p, e) => got.push([p, e.seq]) });
  await tick();
  FakeWS.all[0].open();
  FakeWS.all[0].send(env(1, 'e1', 'héllo'));
  FakeWS.all[0].send({ ...env(2), data: undefined, data_b64: 'AAEC/w==' });
  assert.deepEqual(got[0], ['héllo', 1]);
  assert.ok(got[1][0] instanceof Uint8Array);
  assert.deepEqual([...got[1][0]], [0, 1, 2, 255]);
  sub.close();
});

test('auto falls back to SSE after WebSocket handshakes are refused while HTTP works', async () => {
  class FakeES extends FakeWS {}
  FakeWS.all = [];
  const fetch = fakeFetch({
    '/v1/topics/t/ws': () => jsonResponse(400, { error: 'websocket: the client is not using the websocket protocol', code: 'bad_request' }),
  });
  const c = new RingcastClient({ baseURL: 'http://rc.test', fetch, WebSocket: FakeWS, EventSource: FakeES });
  const r = recorder();
  const sub = c.subscribe('t', { from: 1, fallbackAfter: 2, ...r.opts });
  await tick();
  FakeWS.all[0].drop(1006);
  await until(() => FakeWS.all.length === 2, 'the second attempt');
  assert.equal(sub.transport, 'ws', 'one refusal is not enough');
  FakeWS.all[1].drop(1006);
  await until(() => FakeWS.all.length === 3, 'the third attempt');
  assert.equal(sub.transport, 'sse');
  const es = FakeWS.all[2];
  assert.ok(es instanceof FakeES);
  assert.equal(new URL(es.url).pathname, '/v1/topics/t/sse');
  assert.ok(r.states.some((s) => /server-sent events/.test(s.reason || '')));
  es.open();
  es.send(env(1));
  assert.deepEqual(r.msgs, [1]);
  assert.equal(r.states.at(-1).transport, 'sse');
  sub.close();
});

test('an unreachable server is not a WebSocket refusal: no fallback', async () => {
  class FakeES extends FakeWS {}
  FakeWS.all = [];
  const fetch = async () => {
    throw new TypeError('connection refused');
  };
  const c = new RingcastClient({ baseURL: 'http://rc.test', fetch, WebSocket: FakeWS, EventSource: FakeES });
  const sub = c.subscribe('t', { from: 1, fallbackAfter: 1, ...recorder().opts });
  await tick();
  for (let i = 0; i < 3; i++) {
    FakeWS.all.at(-1).drop(1006);
    await until(() => FakeWS.all.length === i + 2, `attempt ${i + 2}`);
  }
  assert.equal(sub.transport, 'ws');
  assert.ok(FakeWS.all.every((x) => !(x instanceof FakeES)));
  sub.close();
});

test('no WebSocket constructor: auto subscribes over SSE from the start', async () => {
  class FakeES extends FakeWS {}
  FakeWS.all = [];
  const c = new RingcastClient({ baseURL: 'http://rc.test', fetch: fakeFetch({}), WebSocket: null, EventSource: FakeES });
  const saved = globalThis.WebSocket;
  const sub = c.subscribe('t', { from: 1 });
  await tick();
  assert.equal(globalThis.WebSocket, saved);
  assert.equal(sub.transport, 'sse');
  assert.ok(FakeWS.all[0] instanceof FakeES);
  sub.close();
});

test('an AbortSignal closes the subscription; done resolves', async () => {
  const { c } = newClient({});
  const ctl = new AbortController();
  const sub = c.subscribe('t', { from: 1, signal: ctl.signal });
  await tick();
  ctl.abort();
  assert.deepEqual(await sub.done, { reason: 'aborted', error: null });
  assert.ok(FakeWS.all[0].closed);
});

test('publishBatch refuses items it could not send as one message each', async () => {
  const opts = { baseURL: 'http://rc.test', fetch: fakeFetch({}) };
  await assert.rejects(publishBatch('t', ['ok', 'two\nlines'], opts), /newline/);
  await assert.rejects(publishBatch('t', ['ok', ''], opts), /empty/);
  await assert.rejects(publishBatch('t', [], opts), /nothing to send/);
  await assert.rejects(publishBatch('bad topic', ['x'], opts), (e) => e.code === 'bad_topic');
});

test('module-level subscribe takes the client options with the subscription options', async () => {
  FakeWS.all = [];
  const sub = subscribe('t', { baseURL: 'http://rc.test:9', token: 'k', fetch: fakeFetch({}), WebSocket: FakeWS, from: 7 });
  await tick();
  const u = new URL(FakeWS.all[0].url);
  assert.equal(u.host, 'rc.test:9');
  assert.equal(u.searchParams.get('token'), 'k');
  assert.equal(u.searchParams.get('from'), '7');
  sub.close();
});

test('the publisher waits while bufferedAmount is at or over the high-water mark', async () => {
  class BufWS extends FakeWS {
    constructor(url) {
      super(url);
      this.bufferedAmount = 0;
      this.frames = [];
      queueMicrotask(() => this.open());
    }
    send(data) {
      this.frames.push(data);
      this.bufferedAmount += data.length;
    }
    close(code) {
      this.closed = true;
      queueMicrotask(() => this.onclose && this.onclose({ code, reason: '' }));
    }
  }
  FakeWS.all = [];
  const c = new RingcastClient({ baseURL: 'http://rc.test', fetch: fakeFetch({}), WebSocket: BufWS });
  const p = c.publisher('t', { highWaterMark: 10, pollInterval: 1 });
  assert.ok(p instanceof Publisher);
  await p.ready;
  const ws = FakeWS.all[0];
  assert.equal(new URL(ws.url).searchParams.get('mode'), 'pub');
  await p.send('12345'); // 5 buffered: under the mark
  let done = false;
  const pending = p.send('67890').then(() => (done = true)); // 10: at the mark, waits
  await tick(10);
  assert.equal(done, false, 'send resolved while the buffer was full');
  ws.bufferedAmount = 3; // the network took some
  await pending;
  assert.equal(p.sent, 2);
  await assert.rejects(p.send(''), /empty/);
  ws.bufferedAmount = 0;
  const closed = await p.close();
  assert.equal(closed.code, 1000);
  assert.equal(closed.error, null);
  await assert.rejects(p.send('late'), /closed/);
});

// ---- format, topics, destinations -----------------------------------------

test('payloads, sizes, times', () => {
  assert.equal(utf8Size('aé€😀'), 1 + 2 + 3 + 4);
  assert.deepEqual(payloadOf({ data: 'hé' }), { text: 'hé', b64: null, size: 3, binary: false });
  const bin = payloadOf({ data_b64: 'AAEC/w==' });
  assert.equal(bin.binary, true);
  assert.equal(bin.size, 4);
  assert.equal(b64Size('AAEC'), 3);
  assert.deepEqual([...b64ToBytes('AAEC/w==')], [0, 1, 2, 255]);
  assert.match(hexDump(b64ToBytes('AAEC/w==')), /^00000000  00 01 02 ff/);
  assert.equal(parseTime('2025-01-02T03:04:05.123456789Z').toISOString(), '2025-01-02T03:04:05.123Z');
  assert.equal(parseTime('2025-01-02T03:04:05Z').toISOString(), '2025-01-02T03:04:05.000Z');
  assert.match(formatTime('2025-01-02T03:04:05.5Z'), /^\d\d:\d\d:05\.500$/);
  assert.equal(preview('a\nb'), 'a ⏎ b');
  assert.equal(preview('x'.repeat(500), 10).length, 10);
});

test('rates come from published deltas and restart with the epoch', () => {
  const rt = new RateTracker();
  let r = rt.update([{ topic: 'a', published: 100, head_seq: 100, epoch: 'e' }], 0);
  assert.equal(r.get('a'), null);
  r = rt.update([{ topic: 'a', published: 300, head_seq: 300, epoch: 'e' }], 2000);
  assert.equal(r.get('a'), 100);
  r = rt.update([{ topic: 'a', published: 5, head_seq: 5, epoch: 'f' }], 4000);
  assert.equal(r.get('a'), null);
});

test('destinations are read with tolerant field names', () => {
  const d = normalize({ name: 'hook', type: 'webhook', state: 'retrying', lag: 12, last_error: 'HTTP 500' });
  assert.equal(d.name, 'hook');
  assert.equal(d.state, 'retrying');
  assert.equal(d.lag, 12);
  assert.equal(d.lastError, 'HTTP 500');
  assert.equal(normalize({ name: 'x', status: 'up', lastError: null }).lastError, '');
});
