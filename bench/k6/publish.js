// HTTP publish: RATE messages/s (constant arrival rate) POSTed to TOPIC
// for DURATION seconds, while one WebSocket subscriber (format=json)
// checks that the topic's seqs come without a gap and times each message
// from its POST to its arrival.
//
//   k6 run -e RINGCAST_URL=http://127.0.0.1:8080 -e RATE=1000 -e DURATION=10 bench/k6/publish.js
import http from 'k6/http';
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { WebSocket } from 'k6/websockets';
import { BASE, WS_BASE, num, topicURL, head, payload, SeqChecker, subscriberErrors } from './lib.js';

const TOPIC = __ENV.TOPIC || 'k6.publish';
const RATE = num('RATE', 1000);
const DURATION = num('DURATION', 10);
const SIZE = num('SIZE', 100);
const DRAIN = 2; // seconds the subscriber waits after the last publish

const accepted = new Counter('ringcast_accepted');

export const options = {
  scenarios: {
    subscribe: {
      executor: 'per-vu-iterations',
      exec: 'subscribe',
      vus: 1,
      iterations: 1,
      maxDuration: `${DURATION + DRAIN + 30}s`,
    },
    publish: {
      executor: 'constant-arrival-rate',
      exec: 'publish',
      rate: RATE,
      timeUnit: '1s',
      duration: `${DURATION}s`,
      startTime: '1s', // the subscriber is connected by then
      preAllocatedVUs: Math.min(Math.max(10, Math.ceil(RATE / 100)), 200),
      maxVUs: 400,
    },
  },
  thresholds: {
    'http_req_duration{scenario:publish}': ['p(95)<50'],
    'http_req_failed{scenario:publish}': ['rate<0.01'],
    ringcast_delivery_latency: ['p(95)<100'],
    ringcast_gaps: ['count==0'],
    ringcast_bad_messages: ['count==0'],
    ringcast_subscriber_errors: ['rate==0'],
    ringcast_received: ['count>0'],
    checks: ['rate>0.99'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

export function setup() {
  return { run: Date.now(), head: head(TOPIC) };
}

export function publish(data) {
  const res = http.post(topicURL(TOPIC), payload(data.run, 0, SIZE), {
    headers: { 'Content-Type': 'application/json' },
    tags: { name: 'publish' },
  });
  const ok = check(res, {
    'publish 201': (r) => r.status === 201,
    'publish has a seq': (r) => r.status === 201 && r.json('seq') > 0,
  });
  if (ok) {
    accepted.add(1);
  }
}

export function subscribe(data) {
  const checker = new SeqChecker(data.run, data.head.seq + 1, data.head.epoch);
  let q = `format=json&from=${data.head.seq + 1}`;
  if (data.head.epoch) {
    q += `&epoch=${encodeURIComponent(data.head.epoch)}`;
  }
  const ws = new WebSocket(`${WS_BASE}/v1/topics/${encodeURIComponent(TOPIC)}/ws?${q}`);
  let failed = false;
  ws.onmessage = (e) => checker.envelope(e.data, Date.now());
  ws.onerror = (e) => {
    failed = true;
    console.error(`subscriber: ${e.error}`);
  };
  ws.onclose = () => {
    subscriberErrors.add(failed);
    checker.finish(TOPIC);
  };
  setTimeout(() => ws.close(), (1 + DURATION + DRAIN) * 1000);
}

export function teardown() {
  console.log(`published to ${topicURL(TOPIC)} (${BASE})`);
}
