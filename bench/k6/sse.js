// Server-sent events: RATE messages/s POSTed to TOPIC for DURATION
// seconds while SUBS SSE subscribers (format=json) check that every seq
// arrives, in order.
//
// k6 has no streaming HTTP reader: a request hands over its body only
// when it ends. So each subscriber reads the stream in windows: it asks
// for /sse?from=<next seq> with a timeout of WINDOW seconds, keeps what
// arrived, and asks again from the seq after the last one, which also
// tests resuming. It cannot see when each event arrived, so:
//   - ringcast_sse_freshness is, at the end of each window while messages
//     are being published, the age of the newest event received (at most
//     1/RATE plus the delivery latency when the broker keeps up);
//   - ringcast_delivery_latency is the broker's own p95 of
//     ringcast_delivery_latency_seconds{transport="sse"} over the run
//     (sampled), read from /metrics in teardown: one value.
// `ringcast bench fanout --transport sse` times every message. Every
// window ends with k6's warning "Request Failed … request timeout": that
// is the window closing, not an error (the thresholds ignore it).
//
//   k6 run -e RINGCAST_URL=http://127.0.0.1:8080 -e RATE=200 -e SUBS=10 -e DURATION=10 bench/k6/sse.js
import http from 'k6/http';
import { check } from 'k6';
import { Trend } from 'k6/metrics';
import { BASE, num, topicURL, head, payload, SeqChecker, subscriberErrors, deliveryLatency, histogramQuantile, metrics } from './lib.js';

const TOPIC = __ENV.TOPIC || 'k6.sse';
const RATE = num('RATE', 200);
const SUBS = num('SUBS', 10);
const DURATION = num('DURATION', 10);
const SIZE = num('SIZE', 100);
const WINDOW = num('WINDOW', 2); // seconds per SSE request
const DRAIN = 2;

const freshness = new Trend('ringcast_sse_freshness', true);

export const options = {
  scenarios: {
    subscribe: {
      executor: 'per-vu-iterations',
      exec: 'subscribe',
      vus: SUBS,
      iterations: 1,
      maxDuration: `${DURATION + DRAIN + WINDOW + 30}s`,
    },
    publish: {
      executor: 'constant-arrival-rate',
      exec: 'publish',
      rate: RATE,
      timeUnit: '1s',
      duration: `${DURATION}s`,
      startTime: '1s',
      preAllocatedVUs: Math.min(Math.max(10, Math.ceil(RATE / 50)), 100),
      maxVUs: 200,
    },
  },
  thresholds: {
    'http_req_duration{scenario:publish}': ['p(95)<50'],
    'http_req_failed{scenario:publish}': ['rate<0.01'],
    ringcast_sse_freshness: [`p(95)<${Math.ceil(1000 / RATE) + 250}`],
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
  return { run: Date.now(), head: head(TOPIC), metrics: metrics() };
}

export function publish(data) {
  const res = http.post(topicURL(TOPIC), payload(data.run, 0, SIZE), {
    headers: { 'Content-Type': 'application/json' },
    tags: { name: 'publish' },
  });
  check(res, { 'publish 201': (r) => r.status === 201 });
}

// events parses the SSE events in body: [{id, data}].
function events(body) {
  const out = [];
  for (const block of body.split('\n\n')) {
    let id = null;
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) {
        id = Number(line.slice(4));
      } else if (line.startsWith('data: ')) {
        data.push(line.slice(6));
      }
    }
    if (id !== null && data.length > 0) {
      out.push({ id, data: data.join('\n') });
    }
  }
  return out;
}

export function subscribe(data) {
  const checker = new SeqChecker(data.run, data.head.seq + 1, data.head.epoch, false);
  const end = Date.now() + (1 + DURATION + DRAIN) * 1000;
  let failed = false;
  while (Date.now() < end && !failed) {
    const window = Math.min(WINDOW * 1000, Math.max(end - Date.now(), 100));
    let q = `format=json&from=${checker.next}`;
    if (checker.epoch) {
      q += `&epoch=${encodeURIComponent(checker.epoch)}`;
    }
    // The window always ends by timeout: that is not a failed request.
    const res = http.get(`${topicURL(TOPIC)}/sse?${q}`, {
      timeout: `${window}ms`,
      tags: { name: 'sse window' },
      responseCallback: http.expectedStatuses(0, 200),
    });
    const now = Date.now();
    if (res.status !== 0 && res.status !== 200) {
      console.error(`subscriber ${__VU}: ${res.status} ${res.body}`);
      failed = true;
      break;
    }
    let newest = null;
    for (const ev of events(res.body || '')) {
      const p = checker.envelope(ev.data, now);
      if (p && p.run === data.run) {
        newest = p;
      }
    }
    // Freshness means something only while messages are being published.
    const publishing = now >= data.run + 1000 + window && now <= data.run + (1 + DURATION) * 1000;
    if (newest && publishing) {
      freshness.add(now - newest.t);
    }
  }
  subscriberErrors.add(failed);
  checker.finish(TOPIC);
}

export function teardown(data) {
  const p95 = histogramQuantile(0.95, 'ringcast_delivery_latency_seconds', 'transport="sse"', data.metrics, metrics());
  if (p95 !== null) {
    deliveryLatency.add(p95 * 1000);
  } else {
    console.warn('the broker sampled no SSE delivery latency during the run');
  }
}
