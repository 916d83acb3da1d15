// usage.ts compiles against the published package ("ringcast": package.json
// exports and static/ringcast.d.ts); types.test.mjs runs tsc on it. Lines
// marked @ts-expect-error must stay errors: the types are not `any`.
import {
  Publisher,
  RingcastClient,
  RingcastError,
  State,
  Subscription,
  VERSION,
  backoffDelay,
  publish,
  publishBatch,
  publisher,
  subscribe,
  validTopic,
  type Envelope,
  type Gap,
  type Reset,
  type StateChange,
} from 'ringcast';

const seen: Envelope[] = [];
const gaps: Gap[] = [];
const resets: Reset[] = [];

const sub: Subscription = subscribe('chat', {
  baseURL: 'http://127.0.0.1:8080',
  from: 'latest',
  policy: 'drop-oldest',
  transport: 'auto',
  token: 's3cr3t',
  backoff: { base: 100, max: 5000 },
  onMessage(m) {
    const seq: number = m.seq;
    const text: string | undefined = m.data;
    if (seq > 0 && text !== undefined) seen.push(m);
  },
  onGap(g) {
    const missed: number = g.count + g.to - g.from;
    if (missed >= 0) gaps.push(g);
  },
  onReset(r) {
    const before: string = r.previousEpoch;
    if (before !== r.epoch) resets.push(r);
  },
  onState(s: StateChange) {
    if (s.state === State.RECONNECTING && s.delay !== undefined) console.log(s.reason, s.transport);
  },
  onError(err) {
    const status: number = err.status;
    console.log(status, err.code);
  },
});

const raw = subscribe('bytes', {
  format: 'raw',
  from: 42,
  epoch: 'e1',
  onMessage(payload, env) {
    if (typeof payload === 'string') console.log(payload.toUpperCase(), env.seq);
    else console.log(payload.byteLength, env.data_b64);
  },
});

// @ts-expect-error from is 'latest', 'oldest' or a seq
subscribe('chat', { from: 'soon' });
// @ts-expect-error a policy the server does not know
subscribe('chat', { policy: 'drop' });
// @ts-expect-error onMessage of format json gets one envelope, not a payload string
subscribe('chat', { onMessage: (m: string) => m });

async function main(): Promise<void> {
  const r = await publish('chat', 'hello', { baseURL: 'http://127.0.0.1:8080', attrs: { who: 'me' } });
  const seq: number = r.seq;
  const b = await publishBatch('chat', ['a', 'b']);
  const first: number = b.first_seq + b.count + seq;
  const p: Publisher = publisher('chat', { highWaterMark: 1 << 16 });
  await p.ready;
  await p.send('x');
  await p.send(new Uint8Array([1, 2]));
  await p.flush();
  const closed = await p.close();
  console.log(closed.code, first, p.bufferedAmount);

  const c = new RingcastClient({ baseURL: 'http://127.0.0.1:8080', token: 't', fetch });
  const topics = await c.topics();
  console.log(topics[0]?.head_seq, (await c.topic('chat'))?.epoch);
  const retained: Envelope[] = await c.messages('chat', { from: 'oldest', limit: 10 });
  console.log(retained.length, (await c.destinations())?.[0]?.last_error);
  const s2 = c.subscribe('chat', { from: 'oldest' });
  console.log(s2.resumeParams().from);
  try {
    await c.publish('chat', 'x');
  } catch (e) {
    if (e instanceof RingcastError) console.log(e.status, e.code, e.retryAfter);
  }
  const d = await sub.done;
  console.log(d.reason, d.error?.status);
}

raw.close();
console.log(VERSION, validTopic('a.b'), backoffDelay(3), seen, gaps, resets);
void main();
