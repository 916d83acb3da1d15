// console.js: the Ringcast web console (entry module). It speaks only the
// wire contract (API.md) through ringcast.js, the JavaScript client that the
// server also serves at /v1/client.js.
//
// The page may be opened with ?topic=NAME[&from=latest|oldest|N][&policy=…]
// [&format=raw|json][&transport=auto|ws|sse] to connect at once; the address
// follows the connection so it can be bookmarked. The token is kept in sessionStorage (this tab only)
// and never put in the page address.

import { DestinationsPanel } from './destinations.js';
import { formatCount, formatRate } from './format.js';
import { MessageList } from './message-list.js';
import { RingcastClient, RingcastError, State, refusalReason, validTopic } from './ringcast.js';
import { TopicsPanel } from './topics.js';

const $ = (id) => document.getElementById(id);
const el = {
  topic: $('topic'),
  from: $('from'),
  fromSeq: $('from-seq'),
  policy: $('policy'),
  format: $('format'),
  transport: $('transport'),
  connectForm: $('connect-form'),
  connect: $('connect'),
  disconnect: $('disconnect'),
  state: $('state'),
  messages: $('messages'),
  pause: $('pause'),
  filter: $('filter'),
  clear: $('clear'),
  stats: $('stats'),
  sendForm: $('send-form'),
  sendText: $('send-text'),
  send: $('send'),
  batchForm: $('batch-form'),
  batchText: $('batch-text'),
  sendBatch: $('send-batch'),
  sendTopic: $('send-topic'),
  sendStatus: $('send-status'),
  token: $('token'),
  topics: $('topics'),
  topicsFilter: $('topics-filter'),
  topicsNote: $('topics-note'),
  topicNames: $('topic-names'),
  destinations: $('destinations'),
  announce: $('announce'),
  error: $('error'),
  errorText: $('error-text'),
  errorClose: $('error-close'),
};

const TOKEN_KEY = 'ringcast.console.token';
const TOPIC_KEY = 'ringcast.console.topic';

const client = new RingcastClient({ token: load(sessionStorage, TOKEN_KEY) });
el.token.value = client.token;

/** the live subscription and what the console knows about it */
let sub = null;
let subTopic = '';
let received = 0;
let rateWindow = { t: performance.now(), n: 0, rate: null };
let countdown = 0;
let lag = null; // head_seq − last seq received, from the topic poll
let generation = 0; // callbacks of a replaced subscription are ignored

const list = new MessageList(el.messages, {
  cap: 1000,
  format: el.format.value,
  onChange: (s) => renderListStats(s),
  announce: (text) => {
    el.announce.textContent = text;
  },
});

// ---- errors ----------------------------------------------------------------

function showError(text) {
  el.errorText.textContent = text;
  el.error.hidden = false;
}

function clearError() {
  el.errorText.textContent = '';
  el.error.hidden = true;
}

el.errorClose.addEventListener('click', clearError);

// ---- connection state ----------------------------------------------------------

function setState(state, text) {
  el.state.dataset.state = state;
  if (el.state.textContent !== text) el.state.textContent = text;
  const mark = { live: '●', connecting: '◌', reconnecting: '◌', closed: '○', idle: '○' }[state] || '○';
  document.title = subTopic ? `${mark} ${subTopic} · Ringcast console` : 'Ringcast console';
}

function onState(s) {
  clearInterval(countdown);
  countdown = 0;
  switch (s.state) {
    case State.CONNECTING:
      setState('connecting', `connecting to ${subTopic}…`);
      break;
    case State.LIVE:
      setState('live', `live · ${subTopic} · ${s.transport === 'sse' ? 'SSE' : 'WebSocket'}`);
      clearError();
      break;
    case State.RECONNECTING: {
      if (!s.delay) {
        setState('reconnecting', `reconnecting to ${subTopic}…`);
        break;
      }
      const why = s.reason ? ` (${s.reason})` : '';
      const tick = () => {
        const left = Math.max(0, Math.ceil((s.at - Date.now()) / 1000));
        setState('reconnecting', `reconnecting in ${left}s${why}`);
      };
      tick();
      countdown = setInterval(tick, 250);
      break;
    }
    case State.CLOSED:
      setState('closed', `closed: ${s.reason || 'closed'}`);
      setConnected(false);
      break;
  }
}

function setConnected(on) {
  el.disconnect.disabled = !on;
  el.connect.textContent = on ? 'Reconnect' : 'Connect';
}

// ---- subscribe ---------------------------------------------------------------------

function readFrom() {
  if (el.from.value === 'seq') {
    const n = Number(el.fromSeq.value);
    if (!Number.isSafeInteger(n) || n < 1) return null;
    return n;
  }
  return el.from.value;
}

function connect({ resume = false } = {}) {
  const topic = el.topic.value.trim();
  if (!validTopic(topic)) {
    showError('A topic name is 1 to 128 of A–Z a–z 0–9 _ . - (dots separate levels).');
    el.topic.focus();
    return;
  }
  let from = readFrom();
  if (from === null) {
    showError('From seq must be a whole number of at least 1.');
    el.fromSeq.focus();
    return;
  }
  let epoch = '';
  const same = sub && subTopic === topic;
  if (resume && same) {
    // Same topic, new token: carry on where the last subscription was
    // (its last seq + 1, or the seq it was about to start at).
    ({ from, epoch } = sub.resumeParams());
  }
  const gen = ++generation;
  if (sub) sub.close('replaced');
  clearError();
  if (!(resume && same)) {
    list.clear();
    received = 0;
    rateWindow = { t: performance.now(), n: 0, rate: null };
  }
  subTopic = topic;
  save(localStorage, TOPIC_KEY, topic);
  el.sendTopic.textContent = topic;
  updateAddress();
  setConnected(true);
  lag = null;
  const mine = () => gen === generation;
  sub = client.subscribe(topic, {
    from,
    epoch,
    policy: el.policy.value,
    transport: el.transport.value,
    onState: (st) => mine() && onState(st),
    onMessage: (m) => {
      if (!mine()) return;
      received++;
      rateWindow.n++;
      list.addMessage(m);
    },
    onGap: ({ from: a, to: b }) => mine() && list.addGap(a, b),
    onReset: ({ previousEpoch, epoch: e, seq }) => mine() && list.addReset(previousEpoch, e, seq),
    onError: (err) => {
      if (!mine()) return;
      if (err.status) showError(subscribeError(err));
      else showError(err.message);
    },
  });
  renderStats();
  topicsPanel.poll();
}

function disconnect() {
  if (!sub) return;
  sub.close('closed by you');
  setConnected(false);
  renderStats();
}

function subscribeError(err) {
  const head = refusalReason(err);
  if (err.status === 401) return `${head}. Enter it in the Token field above, then connect again.`;
  if (err.status === 403) {
    if (el.policy.value === 'block' && /block/i.test(err.message)) {
      return `policy=block is not allowed on this topic: ${err.message}`;
    }
    return `${head}${err.message ? ` (${err.message})` : ''}.`;
  }
  return `Cannot subscribe: ${err.message}${err.code ? ` (${err.code})` : ''}`;
}

function updateAddress() {
  const u = new URL(location.href);
  u.search = '';
  u.searchParams.set('topic', subTopic);
  const from = readFrom();
  if (from !== 'latest' && from !== null) u.searchParams.set('from', String(from));
  if (el.policy.value !== 'drop-oldest') u.searchParams.set('policy', el.policy.value);
  if (el.format.value !== 'raw') u.searchParams.set('format', el.format.value);
  if (el.transport.value !== 'auto') u.searchParams.set('transport', el.transport.value);
  history.replaceState(null, '', u);
}

el.from.addEventListener('change', () => {
  const seq = el.from.value === 'seq';
  el.fromSeq.disabled = !seq;
  if (seq) el.fromSeq.focus();
});

// The client always subscribes with format=json (resuming needs each seq);
// the format chosen here is how rows show a message: the payload (raw) or the
// whole envelope (json). It applies at once, without reconnecting.
el.format.addEventListener('change', () => {
  list.setFormat(el.format.value);
  if (subTopic) updateAddress();
});

el.connectForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  connect();
});
el.disconnect.addEventListener('click', disconnect);

window.addEventListener('online', () => sub && sub.reconnectNow());

// ---- token ----------------------------------------------------------------------------

el.token.addEventListener('change', () => {
  const t = el.token.value.trim();
  if (t === client.token) return;
  client.setToken(t);
  save(sessionStorage, TOKEN_KEY, t);
  clearError();
  topicsPanel.poll();
  destinationsPanel.poll();
  if (sub && subTopic) connect({ resume: true });
});

// ---- list controls -------------------------------------------------------------------

el.pause.addEventListener('click', () => {
  list.setPaused(!list.paused);
});

let filterTimer = 0;
el.filter.addEventListener('input', () => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => list.setFilter(el.filter.value), 120);
});
el.filter.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && el.filter.value) {
    el.filter.value = '';
    list.setFilter('');
  }
});

el.clear.addEventListener('click', () => list.clear());

function renderListStats(s) {
  el.pause.setAttribute('aria-pressed', String(s.paused));
  const label = s.paused ? `Resume${s.buffered ? ` (${formatCount(s.buffered)} new)` : ''}` : 'Pause';
  if (el.pause.textContent !== label) el.pause.textContent = label;
  el.pause.classList.toggle('paused', s.paused);
  el.messages.classList.toggle('paused', s.paused);
  renderStats(s);
}

function renderStats(s = list.stats()) {
  const parts = [];
  if (sub) {
    parts.push(`${formatCount(received)} received`);
    if (rateWindow.rate !== null) parts.push(`${formatRate(rateWindow.rate)}/s`);
    if (sub.lastSeq) parts.push(`last seq ${sub.lastSeq}`);
    if (sub.epoch) parts.push(`epoch ${sub.epoch}`);
    if (lag !== null) parts.push(`lag ${formatCount(lag)}`);
  }
  if (s.kept) {
    const rows = `row${s.kept === 1 ? '' : 's'}`;
    parts.push(s.shown === s.kept ? `${formatCount(s.kept)} ${rows}` : `${formatCount(s.shown)} of ${formatCount(s.kept)} ${rows}`);
  }
  el.stats.textContent = parts.join(' · ');
}

setInterval(() => {
  const now = performance.now();
  const dt = now - rateWindow.t;
  if (dt >= 1000) {
    rateWindow.rate = (rateWindow.n * 1000) / dt;
    rateWindow.t = now;
    rateWindow.n = 0;
  }
  renderStats();
}, 1000);

// ---- send ------------------------------------------------------------------------------

/** sends run one after another so that Enter, Enter, Enter keeps its order. */
let sendQueue = Promise.resolve();

function sendTopic() {
  const t = subTopic || el.topic.value.trim();
  if (!validTopic(t)) {
    showError('Choose a topic to send to (type one in the Topic field).');
    el.topic.focus();
    return '';
  }
  el.sendTopic.textContent = t;
  return t;
}

function sendStatus(text, bad = false) {
  el.sendStatus.textContent = text;
  el.sendStatus.classList.toggle('bad', bad);
}

function publishError(err) {
  if (err instanceof RingcastError) {
    if (err.status === 401) return 'This server needs a token: enter it in the Token field.';
    if (err.status === 403) return `Your token may not publish to this topic${err.message ? ` (${err.message})` : ''}.`;
    if (err.status === 413) return `Too large: ${err.message}`;
    if (err.status === 503 || err.status === 429) {
      return `Not accepted: ${err.message}${err.retryAfter ? `; retry in ${err.retryAfter}s` : ''}`;
    }
    return `Not sent: ${err.message}${err.code ? ` (${err.code})` : ''}`;
  }
  return `Not sent: ${err && err.message ? err.message : err}`;
}

function sendOne() {
  const text = el.sendText.value;
  if (text === '') {
    sendStatus('Nothing to send: Ringcast has no empty messages.', true);
    return;
  }
  const topic = sendTopic();
  if (!topic) return;
  el.sendText.value = '';
  sendQueue = sendQueue.then(async () => {
    try {
      const r = await client.publish(topic, text);
      sendStatus(`Sent to ${topic}: seq ${r.seq}.`);
    } catch (err) {
      if (el.sendText.value === '') el.sendText.value = text; // give it back to retry
      sendStatus(publishError(err), true);
    }
  });
}

function sendBatch() {
  const body = el.batchText.value;
  const count = body.split('\n').filter((l) => l !== '').length;
  if (count === 0) {
    sendStatus('Nothing to send: write one message per line.', true);
    return;
  }
  const topic = sendTopic();
  if (!topic) return;
  el.sendBatch.disabled = true;
  sendQueue = sendQueue.then(async () => {
    try {
      const r = await client.publishBatch(topic, body);
      el.batchText.value = '';
      sendStatus(`Sent ${r.count} to ${topic}: seq ${r.first_seq}–${r.last_seq}.`);
    } catch (err) {
      sendStatus(publishError(err), true);
    } finally {
      el.sendBatch.disabled = false;
    }
  });
}

el.sendForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  sendOne();
});
el.sendText.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.altKey && !ev.isComposing && ev.keyCode !== 229) {
    ev.preventDefault();
    sendOne();
  }
});
el.batchForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  sendBatch();
});
el.batchText.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
    ev.preventDefault();
    sendBatch();
  }
});
el.topic.addEventListener('input', () => {
  if (!subTopic) el.sendTopic.textContent = el.topic.value.trim() || '—';
});

// ---- side panels ----------------------------------------------------------------------

const topicsPanel = new TopicsPanel({
  client,
  table: el.topics,
  filter: el.topicsFilter,
  note: el.topicsNote,
  datalist: el.topicNames,
  onPick: (topic) => {
    el.topic.value = topic;
    connect();
    el.sendText.focus();
  },
  current: () => (sub && !sub.closed ? { topic: subTopic, lastSeq: sub.lastSeq, epoch: sub.epoch } : null),
  onCurrent: (t) => {
    lag = t && sub && sub.lastSeq > 0 && t.epoch === sub.epoch ? Math.max(0, t.head_seq - sub.lastSeq) : null;
  },
});

const destinationsPanel = new DestinationsPanel({ client, box: el.destinations });

// ---- start -------------------------------------------------------------------------------

function load(store, key) {
  try {
    return store.getItem(key) || '';
  } catch {
    return '';
  }
}

function save(store, key, value) {
  try {
    if (value) store.setItem(key, value);
    else store.removeItem(key);
  } catch {
    // storage disabled: the setting lasts until the page closes
  }
}

function start() {
  const q = new URLSearchParams(location.search);
  const topic = q.get('topic') || '';
  el.topic.value = topic || load(localStorage, TOPIC_KEY);
  el.sendTopic.textContent = el.topic.value || '—';
  const from = q.get('from');
  if (from === 'oldest' || from === 'latest') el.from.value = from;
  else if (from && /^\d+$/.test(from)) {
    el.from.value = 'seq';
    el.fromSeq.disabled = false;
    el.fromSeq.value = from;
  }
  const policy = q.get('policy');
  if (policy && [...el.policy.options].some((o) => o.value === policy)) el.policy.value = policy;
  const format = q.get('format');
  if (format === 'raw' || format === 'json') {
    el.format.value = format;
    list.setFormat(format);
  }
  const transport = q.get('transport');
  if (transport === 'auto' || transport === 'ws' || transport === 'sse') el.transport.value = transport;

  setState('idle', 'not connected');
  renderStats();
  topicsPanel.start();
  destinationsPanel.start();
  if (topic) connect();
  else if (!el.topic.value) el.topic.focus();
}

start();
