// Shared helpers of the Ringcast k6 scripts. Every script talks only to
// RINGCAST_URL (default http://127.0.0.1:8080) and stops by itself.
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';

export const BASE = (__ENV.RINGCAST_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
export const WS_BASE = BASE.replace(/^http/, 'ws');

// num reads a numeric environment variable.
export function num(name, def) {
  const v = __ENV[name];
  if (v === undefined || v === '') {
    return def;
  }
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    throw new Error(`${name}=${v}: want a number`);
  }
  return n;
}

export function topicURL(topic) {
  return `${BASE}/v1/topics/${encodeURIComponent(topic)}`;
}

// The custom metrics every script reports.
export const deliveryLatency = new Trend('ringcast_delivery_latency', true); // publish → receive, ms
export const gaps = new Counter('ringcast_gaps'); // seqs a subscriber never got
export const received = new Counter('ringcast_received'); // messages received by subscribers
export const badMessages = new Counter('ringcast_bad_messages'); // out of order, repeated or unparsable
export const subscriberErrors = new Rate('ringcast_subscriber_errors'); // subscriptions that failed

// head returns the topic's head seq and epoch: 0 and '' for a topic that
// does not exist yet.
export function head(topic) {
  const res = http.get(topicURL(topic), { tags: { name: 'topic stats' }, responseCallback: http.expectedStatuses(200, 404) });
  if (res.status === 404) {
    return { seq: 0, epoch: '' };
  }
  if (res.status !== 200) {
    throw new Error(`GET ${topicURL(topic)}: ${res.status} ${res.body}`);
  }
  const st = res.json();
  return { seq: st.head_seq, epoch: st.epoch };
}

// payload is a message body: the run, the publisher's counter, the send
// time in ms, padded to size bytes.
export function payload(run, n, size) {
  const body = JSON.stringify({ run, n, t: Date.now(), pad: '' });
  const pad = Math.max(0, size - body.length);
  return pad > 0 ? body.replace('"pad":""', `"pad":"${'x'.repeat(pad)}"`) : body;
}

// SeqChecker checks a subscriber's envelopes (format=json): seqs must
// come one after the other; a skipped one is a gap (lost), a repeated or
// older one a bad message. Only messages of this run count for latency,
// and only when timed: a reader that sees each message as it arrives.
export class SeqChecker {
  constructor(run, next, epoch, timed = true) {
    this.run = run;
    this.next = next; // the seq expected next
    this.epoch = epoch;
    this.timed = timed;
    this.count = 0;
  }

  // envelope handles one JSON envelope and returns its payload, or null.
  envelope(text, now) {
    let env;
    try {
      env = JSON.parse(text);
    } catch (e) {
      badMessages.add(1);
      return null;
    }
    if (this.epoch && env.epoch !== this.epoch) {
      // A new incarnation of the topic: what was before is gone.
      this.epoch = env.epoch;
      this.next = env.seq;
    }
    this.epoch = env.epoch;
    if (env.seq < this.next) {
      badMessages.add(1);
      return null;
    }
    if (env.seq > this.next) {
      gaps.add(env.seq - this.next);
    }
    this.next = env.seq + 1;
    this.count++;
    received.add(1);
    let p = null;
    try {
      p = JSON.parse(env.data);
    } catch (e) {
      // not one of ours: still a seq of the topic
    }
    if (this.timed && p && p.run === this.run) {
      deliveryLatency.add(now - p.t);
    }
    return p;
  }

  // finish counts as gaps the seqs up to the topic's final head that never
  // came.
  finish(topic) {
    const h = head(topic);
    if (h.epoch === this.epoch && h.seq >= this.next) {
      gaps.add(h.seq - this.next + 1);
    }
  }
}

// histogramQuantile computes quantile q of the growth of a Prometheus
// histogram between two /metrics texts, for the series whose labels
// contain match; null without samples.
export function histogramQuantile(q, name, match, before, after) {
  const buckets = (text) => {
    const m = new Map();
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}_bucket{`) || !line.includes(match)) {
        continue;
      }
      const le = /le="([^"]+)"/.exec(line)[1];
      m.set(le === '+Inf' ? Infinity : Number(le), Number(line.slice(line.lastIndexOf(' ') + 1)));
    }
    return m;
  };
  const b0 = buckets(before);
  const b1 = buckets(after);
  const les = [...b1.keys()].sort((a, b) => a - b);
  const counts = les.map((le) => b1.get(le) - (b0.get(le) || 0));
  const total = counts[counts.length - 1];
  if (!total) {
    return null;
  }
  const rank = q * total;
  for (let i = 0; i < les.length; i++) {
    if (counts[i] >= rank) {
      if (les[i] === Infinity) {
        return les[i - 1];
      }
      const lo = i === 0 ? 0 : les[i - 1];
      const below = i === 0 ? 0 : counts[i - 1];
      return lo + ((les[i] - lo) * (rank - below)) / (counts[i] - below);
    }
  }
  return null;
}

export function metrics() {
  const res = http.get(`${BASE}/metrics`, { tags: { name: 'metrics' } });
  if (res.status !== 200) {
    throw new Error(`GET ${BASE}/metrics: ${res.status}`);
  }
  return res.body;
}
