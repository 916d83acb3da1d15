// Fan-out over WebSocket: one publisher (mode=pub) sends RATE messages/s
// to TOPIC for DURATION seconds; SUBS subscribers (format=json) check
// that every seq arrives, in order, and time each message from its send
// to its arrival. k6 tops out near 45,000 received WebSocket messages/s
// on a 2-core box: keep RATE × SUBS under that, and measure throughput
// with `ringcast bench fanout`.
//
//   k6 run -e RINGCAST_URL=http://127.0.0.1:8080 -e RATE=500 -e SUBS=20 -e DURATION=10 bench/k6/fanout.js
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { WebSocket } from 'k6/websockets';
import { WS_BASE, num, head, payload, SeqChecker, subscriberErrors } from './lib.js';

const TOPIC = __ENV.TOPIC || 'k6.fanout';
const RATE = num('RATE', 500);
const SUBS = num('SUBS', 20);
const DURATION = num('DURATION', 10);
const SIZE = num('SIZE', 100);
const DRAIN = 2; // seconds the subscribers wait after the last publish
const TICK = 10; // ms between the publisher's bursts

const sent = new Counter('ringcast_sent');
const wsURL = (q) => `${WS_BASE}/v1/topics/${encodeURIComponent(TOPIC)}/ws?${q}`;

export const options = {
  scenarios: {
    subscribe: {
      executor: 'per-vu-iterations',
      exec: 'subscribe',
      vus: SUBS,
      iterations: 1,
      maxDuration: `${DURATION + DRAIN + 30}s`,
    },
    publish: {
      executor: 'per-vu-iterations',
      exec: 'publish',
      vus: 1,
      iterations: 1,
      startTime: '1s', // every subscriber is connected by then
      maxDuration: `${DURATION + 30}s`,
    },
  },
  thresholds: {
    ringcast_delivery_latency: ['p(95)<100', 'p(99)<250'],
    ringcast_gaps: ['count==0'],
    ringcast_bad_messages: ['count==0'],
    ringcast_subscriber_errors: ['rate==0'],
    ringcast_received: ['count>0'],
    checks: ['rate==1'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

export function setup() {
  return { run: Date.now(), head: head(TOPIC) };
}

export function publish(data) {
  const ws = new WebSocket(wsURL('mode=pub'));
  let n = 0;
  let timer;
  const start = Date.now();
  ws.onopen = () => {
    timer = setInterval(() => {
      const elapsed = Date.now() - start;
      if (elapsed >= DURATION * 1000) {
        clearInterval(timer);
        ws.close();
        return;
      }
      // Send what the rate makes due by now.
      const due = Math.floor((elapsed / 1000) * RATE);
      for (; n < due; n++) {
        ws.send(payload(data.run, n + 1, SIZE));
        sent.add(1);
      }
    }, TICK);
  };
  ws.onerror = (e) => {
    console.error(`publisher: ${e.error}`);
    clearInterval(timer);
  };
  ws.onclose = () => check(n, { 'the publisher sent something': (v) => v > 0 });
}

export function subscribe(data) {
  const checker = new SeqChecker(data.run, data.head.seq + 1, data.head.epoch);
  let q = `format=json&from=${data.head.seq + 1}`;
  if (data.head.epoch) {
    q += `&epoch=${encodeURIComponent(data.head.epoch)}`;
  }
  const ws = new WebSocket(wsURL(q));
  let failed = false;
  ws.onmessage = (e) => checker.envelope(e.data, Date.now());
  ws.onerror = (e) => {
    failed = true;
    console.error(`subscriber ${__VU}: ${e.error}`);
  };
  ws.onclose = () => {
    subscriberErrors.add(failed);
    checker.finish(TOPIC);
  };
  setTimeout(() => ws.close(), (1 + DURATION + DRAIN) * 1000);
}
