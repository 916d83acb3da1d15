// The JavaScript client (static/ringcast.js) against a real ringcast server,
// with the `ws` package standing in for the browser's WebSocket. Run by
// web/e2e_test.go (go test ./web), which builds the server into RINGCAST_BIN.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import WebSocket from 'ws';

import { RingcastClient, State, publish, publishBatch, publisher, reconnectHint, subscribe } from '../static/ringcast.js';
import { Server, startNoWebSocketProxy, startProxy, startServer, waitFor } from './helpers.mjs';

const fast = { base: 50, max: 400, min: 20 };

/** recorder collects what a subscription reports. */
function recorder() {
  const r = { msgs: [], data: [], gaps: [], resets: [], states: [], errors: [] };
  r.opts = {
    WebSocket,
    backoff: fast,
    onMessage: (m) => {
      r.msgs.push(m.seq);
      r.data.push(m.data);
    },
    onGap: (g) => r.gaps.push([g.from, g.to]),
    onReset: (x) => r.resets.push(x),
    onState: (s) => r.states.push(s),
    onError: (e) => r.errors.push(e),
  };
  r.live = (n = 1) =>
    waitFor(() => r.states.filter((s) => s.state === State.LIVE).length >= n, { what: `live #${n}` });
  r.count = (n) => waitFor(() => r.msgs.length >= n, { what: `${n} messages (have ${r.msgs.length}: ${r.msgs.join(',')})` });
  return r;
}

const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('against a server', () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--ring-size', '1024', '--max-message-bytes', '65536'] });
  });
  after(() => srv && srv.stop());

  test('publish, publishBatch, messages and topic stats', async () => {
    const opts = { baseURL: srv.url };
    const one = await publish('basic', 'hello', opts);
    assert.equal(one.seq, 1);
    assert.match(one.epoch, /\S/);
    const b = await publishBatch('basic', ['a', 'b', 'c'], opts);
    assert.deepEqual([b.first_seq, b.last_seq, b.count], [2, 4, 3]);
    const bytes = await publish('basic', new Uint8Array([0, 1, 255]), opts);
    assert.equal(bytes.seq, 5);
    const c = new RingcastClient(opts);
    const msgs = await c.messages('basic', { from: 1 });
    assert.deepEqual(
      msgs.map((m) => m.data ?? m.data_b64),
      ['hello', 'a', 'b', 'c', 'AAH/'],
    );
    const t = await c.topic('basic');
    assert.equal(t.head_seq, 5);
    assert.equal(await c.topic('nope'), null);
    assert.ok((await c.topics()).some((x) => x.topic === 'basic'));
    await assert.rejects(publish('basic', 'x'.repeat(70000), opts), (e) => e.status === 413 && e.code === 'too_large');
  });

  test('a WebSocket subscription resumes after the connection is cut: no loss, no duplicate, no gap', async () => {
    const proxy = await startProxy(srv.port);
    try {
      const r = recorder();
      const sub = subscribe('resume', { baseURL: proxy.url, from: 'latest', ...r.opts });
      await r.live();
      for (let i = 1; i <= 5; i++) await srv.publish('resume', `m${i}`);
      await r.count(5);
      const epoch = sub.epoch;
      proxy.cut(); // the server's side of the connection just breaks
      await waitFor(() => r.states.some((s) => s.state === State.RECONNECTING), { what: 'reconnecting' });
      assert.deepEqual(sub.resumeParams(), { from: 6, epoch });
      for (let i = 6; i <= 8; i++) await srv.publish('resume', `m${i}`); // while it is away
      await r.live(2);
      const reconnect = r.states.filter((s) => s.url).at(-1).url;
      assert.equal(new URL(reconnect).searchParams.get('from'), '6');
      assert.equal(new URL(reconnect).searchParams.get('epoch'), epoch);
      for (let i = 9; i <= 10; i++) await srv.publish('resume', `m${i}`);
      await r.count(10);
      assert.deepEqual(r.msgs, range(1, 10));
      assert.deepEqual(r.data, range(1, 10).map((i) => `m${i}`));
      assert.deepEqual(r.gaps, []);
      assert.deepEqual(r.resets, []);
      assert.deepEqual(r.errors, []);
      sub.close();
      assert.equal(r.states.at(-1).state, State.CLOSED);
    } finally {
      await proxy.close();
    }
  });

  test('an SSE subscription (read with fetch) resumes the same way', async () => {
    const proxy = await startProxy(srv.port);
    try {
      const r = recorder();
      const sub = subscribe('resume.sse', { baseURL: proxy.url, transport: 'sse', from: 'oldest', ...r.opts });
      await r.live();
      assert.equal(sub.transport, 'sse');
      await srv.publish('resume.sse', 'one\ntwo lines');
      await srv.publish('resume.sse', 'm2');
      await r.count(2);
      proxy.cut();
      await srv.publish('resume.sse', 'm3');
      await r.live(2);
      await srv.publish('resume.sse', 'm4');
      await r.count(4);
      assert.deepEqual(r.msgs, [1, 2, 3, 4]);
      assert.deepEqual(r.data, ['one\ntwo lines', 'm2', 'm3', 'm4']);
      assert.deepEqual(r.gaps, []);
      sub.close();
    } finally {
      await proxy.close();
    }
  });

  test('auto falls back to SSE when WebSocket upgrades are refused', async () => {
    const proxy = await startNoWebSocketProxy(srv.port);
    try {
      const r = recorder();
      const sub = subscribe('fallback', { baseURL: proxy.url, from: 'oldest', fallbackAfter: 2, ...r.opts });
      await r.live();
      assert.equal(sub.transport, 'sse');
      assert.ok(proxy.upgrades >= 2);
      assert.ok(r.states.some((s) => /server-sent events/.test(s.reason || '')));
      await srv.publish('fallback', 'via sse');
      await r.count(1);
      assert.deepEqual(r.data, ['via sse']);
      assert.deepEqual(r.errors, []);
      sub.close();
    } finally {
      await proxy.close();
    }
  });

  test('the streaming publisher respects backpressure and every frame arrives in order', async () => {
    const r = recorder();
    const sub = subscribe('stream', { baseURL: srv.url, from: 'latest', ...r.opts });
    await r.live();
    const hwm = 16 * 1024;
    const p = publisher('stream', { baseURL: srv.url, WebSocket, highWaterMark: hwm });
    await p.ready;
    const n = 300;
    const payload = (i) => `${i}:${'y'.repeat(2000)}`;
    let maxAfterSend = 0;
    for (let i = 1; i <= n; i++) {
      await p.send(payload(i));
      maxAfterSend = Math.max(maxAfterSend, p.bufferedAmount);
    }
    assert.ok(maxAfterSend < hwm, `send resolved with ${maxAfterSend} bytes buffered (mark ${hwm})`);
    const closed = await p.close();
    assert.equal(closed.code, 1000);
    assert.equal(closed.error, null);
    assert.equal(p.sent, n);
    await r.count(n);
    assert.deepEqual(r.msgs, range(1, n));
    assert.ok(r.data.every((d, i) => d === payload(i + 1)));
    sub.close();
  });

  test('the streaming publisher reports a frame the server refused', async () => {
    const p = publisher('stream.big', { baseURL: srv.url, WebSocket });
    await p.ready;
    await p.send('x'.repeat(70000)); // over --max-message-bytes
    const closed = await p.closed;
    assert.equal(closed.code, 1009);
    assert.match(closed.error.message, /max-message-bytes/);
    await assert.rejects(p.send('more'), /max-message-bytes/);
  });

  test('a publisher to a server that is not there rejects ready', async () => {
    const gone = new Server();
    await gone.start();
    const url = gone.url;
    await gone.stop();
    const p = publisher('x', { baseURL: url, WebSocket });
    await assert.rejects(p.ready, /cannot reach the server/);
  });
});

describe('with a ring of 8', () => {
  let srv;
  before(async () => {
    srv = await startServer({ args: ['--ring-size', '8'] });
  });
  after(() => srv && srv.stop());

  test('asking for seqs the ring no longer holds reports them as a gap', async () => {
    for (let i = 1; i <= 50; i += 8) await srv.batch('lapped', range(i, Math.min(i + 7, 50)).map((j) => `m${j}`));
    const r = recorder();
    const sub = subscribe('lapped', { baseURL: srv.url, from: 1, ...r.opts });
    await r.count(8);
    assert.deepEqual(r.gaps, [[1, 42]], 'the ring of 8 holds 43..50');
    assert.deepEqual(r.msgs, range(43, 50));
    sub.close();
  });

  test('a subscriber lapped while connected reports every seq it missed', async () => {
    const proxy = await startProxy(srv.port);
    try {
      const r = recorder();
      const sub = subscribe('lapped.live', { baseURL: proxy.url, from: 'latest', policy: 'drop-oldest', ...r.opts });
      await r.live();
      await srv.publish('lapped.live', 'first');
      await r.count(1);
      // Stop reading: the server's socket fills, its writer falls a whole
      // ring (8) behind while publishers go on, and has to skip ahead.
      proxy.stall();
      const big = 'x'.repeat(60000);
      const n = 1 + 3 * 100;
      for (let b = 0; b < 300 / 6; b++) await srv.batch('lapped.live', Array(6).fill(big));
      proxy.flow();
      await waitFor(() => sub.lastSeq === n, { timeout: 30000, what: `seq ${n} (at ${sub.lastSeq})` });
      assert.ok(r.gaps.length >= 1, 'no gap reported for a lapped subscriber');
      // Every seq is either delivered or inside a reported gap, once.
      const seen = new Map();
      for (const s of r.msgs) seen.set(s, (seen.get(s) || 0) + 1);
      for (const [a, b] of r.gaps) for (let s = a; s <= b; s++) seen.set(s, (seen.get(s) || 0) + 1);
      for (let s = 1; s <= n; s++) assert.equal(seen.get(s), 1, `seq ${s} accounted for ${seen.get(s) || 0} times`);
      assert.deepEqual(
        r.msgs,
        [...r.msgs].sort((a, b) => a - b),
        'in seq order',
      );
      assert.deepEqual(r.resets, []);
      const stats = await srv.topic('lapped.live');
      assert.ok(stats.dropped > 0, 'the server counted the drops');
      sub.close();
    } finally {
      await proxy.close();
    }
  });

});

describe('across server restarts', () => {
  test('an epoch reset after a crash is reported, then delivery goes on from seq 1', async () => {
    const srv = await startServer({ args: ['--ring-size', '8'] });
    try {
      const r = recorder();
      const sub = subscribe('reset', { baseURL: srv.url, from: 'latest', ...r.opts });
      await r.live();
      for (let i = 1; i <= 3; i++) await srv.publish('reset', `old${i}`);
      await r.count(3);
      const oldEpoch = sub.epoch;
      await srv.restart({ crash: true });
      await srv.publish('reset', 'new1'); // maybe before the client is back: it must still arrive
      await r.live(2);
      await srv.publish('reset', 'new2');
      await r.count(5);
      assert.deepEqual(r.msgs, [1, 2, 3, 1, 2]);
      assert.deepEqual(r.data, ['old1', 'old2', 'old3', 'new1', 'new2']);
      assert.equal(r.resets.length, 1);
      const reset = r.resets[0];
      assert.equal(reset.previousEpoch, oldEpoch);
      assert.notEqual(reset.epoch, oldEpoch);
      assert.equal(reset.seq, 1);
      assert.equal(reset.lastSeq, 3);
      assert.deepEqual(r.gaps, [], 'a reset is not a gap');
      assert.equal(sub.epoch, reset.epoch);
      assert.deepEqual(sub.resumeParams(), { from: 3, epoch: reset.epoch });
      sub.close();
    } finally {
      await srv.stop();
    }
  });

  test('a graceful restart (1001 going away) resumes the same way, over SSE too', async () => {
    const srv = await startServer();
    try {
      const ws = recorder();
      const sse = recorder();
      const a = subscribe('drain', { baseURL: srv.url, from: 'latest', ...ws.opts });
      const b = subscribe('drain', { baseURL: srv.url, from: 'latest', transport: 'sse', ...sse.opts });
      await ws.live();
      await sse.live();
      await srv.publish('drain', 'before');
      await ws.count(1);
      await sse.count(1);
      await srv.restart();
      assert.ok(ws.states.some((s) => /going away/.test(s.reason || '')), 'WebSocket closed with 1001');
      await ws.live(2);
      await sse.live(2);
      await srv.publish('drain', 'after');
      await ws.count(2);
      await sse.count(2);
      for (const r of [ws, sse]) {
        assert.deepEqual(r.data, ['before', 'after']);
        assert.equal(r.resets.length, 1);
        assert.deepEqual(r.gaps, []);
      }
      a.close();
      b.close();
    } finally {
      await srv.stop();
    }
  });

  test('a draining server spreads reconnects: its hint is waited, over WebSocket and SSE', async () => {
    // --drain-timeout 4s: hints are spread over [0, 2000) ms.
    const srv = await startServer({ args: ['--drain-timeout', '4s'] });
    try {
      const recs = [];
      const subs = [];
      for (let i = 0; i < 8; i++) {
        const r = recorder();
        const transport = i % 2 ? 'sse' : 'ws';
        r.transport = transport;
        recs.push(r);
        subs.push(subscribe('hinted', { baseURL: srv.url, from: 'latest', transport, ...r.opts }));
      }
      for (const r of recs) await r.live();
      await srv.restart();
      for (const r of recs) await r.live(2);
      await srv.publish('hinted', 'after');
      for (const r of recs) await r.count(1);
      const hints = { ws: [], sse: [] };
      for (const r of recs) {
        const first = r.states.find((s) => s.state === State.RECONNECTING && s.delay > 0);
        assert.ok(first, `${r.transport}: no reconnect wait in ${JSON.stringify(r.states)}`);
        if (first.hint !== undefined) {
          assert.ok(first.hint >= 0 && first.hint < 2000, `${r.transport}: hint ${first.hint} outside [0, 2000)`);
          assert.ok(first.delay >= first.hint, `${r.transport}: delay ${first.delay} < hint ${first.hint}`);
          hints[r.transport].push(first.hint);
        }
      }
      assert.ok(hints.ws.length >= 3, `WebSocket hints: ${hints.ws}`);
      assert.ok(hints.sse.length >= 3, `SSE hints: ${hints.sse}`);
      for (const sub of subs) sub.close();
    } finally {
      await srv.stop();
    }
  });
});

test('reconnectHint reads a 1001 reason or an SSE retry, capped at a minute', () => {
  assert.equal(reconnectHint({ code: 1001, reason: 'draining; reconnect in 1234 ms' }), 1234);
  assert.equal(reconnectHint({ code: 1001, reason: 'draining; reconnect in 0 ms' }), 0);
  assert.equal(reconnectHint({ code: 1001, reason: 'server shutting down' }), 0);
  assert.equal(reconnectHint({ code: 1000, reason: 'draining; reconnect in 1234 ms' }), 0);
  assert.equal(reconnectHint({ code: 0, reason: '', retry: 250 }), 250);
  assert.equal(reconnectHint({ code: 0, reason: '', retry: 999999999 }), 60000);
  assert.equal(reconnectHint({ code: 0, reason: '', retry: undefined }), 0);
  assert.equal(reconnectHint(null), 0);
});
