// topics.js: the topic list, polled from GET /v1/topics, with rates computed
// from the change in published (or head_seq) between polls.
//
// DOM (stable for tests): #topics is a table; each topic is a
// <tr data-topic="name"> whose first cell holds a button that connects to it.

import { formatCount, formatRate } from './format.js';
import { RingcastError } from './ringcast.js';

const MAX_ROWS = 200; // a server may hold 100,000 topics; show a findable slice

/** RateTracker turns successive counter samples into per-second rates. */
export class RateTracker {
  constructor() {
    this.prev = new Map(); // topic -> {count, epoch, t}
  }

  /** update takes a /v1/topics list sampled at time t (ms) and returns Map topic -> rate|null. */
  update(list, t) {
    const rates = new Map();
    const next = new Map();
    for (const s of list) {
      const count = typeof s.published === 'number' ? s.published : s.head_seq;
      const old = this.prev.get(s.topic);
      let rate = null;
      if (old && typeof count === 'number' && t > old.t && old.epoch === s.epoch && count >= old.count) {
        rate = ((count - old.count) * 1000) / (t - old.t);
      }
      rates.set(s.topic, rate);
      next.set(s.topic, { count, epoch: s.epoch, t });
    }
    this.prev = next;
    return rates;
  }
}

export class TopicsPanel {
  /**
   * @param {object} o
   * @param {import('./ringcast.js').RingcastClient} o.client
   * @param {HTMLTableElement} o.table #topics
   * @param {HTMLInputElement} o.filter the "find topic" box
   * @param {HTMLElement} o.note a line for counts and errors
   * @param {HTMLDataListElement} [o.datalist] filled with topic names for #topic
   * @param {(topic: string) => void} o.onPick a topic row was chosen
   * @param {() => {topic: string, lastSeq: number, epoch: string} | null} o.current our subscription, for lag
   * @param {(topic: object|null) => void} [o.onCurrent] the stats row of our topic after each poll
   * @param {number} [o.interval] ms between polls (default 2000)
   */
  constructor(o) {
    Object.assign(this, o);
    this.interval = o.interval || 2000;
    this.tbody = this.table.tBodies[0] || this.table.createTBody();
    this.rows = new Map(); // topic -> <tr>
    this.rates = new RateTracker();
    this.last = [];
    this.lastRates = new Map();
    this.timer = 0;
    this.busy = false;
    this.filter.addEventListener('input', () => this.render());
    this.tbody.addEventListener('click', (ev) => {
      const b = ev.target.closest('button[data-pick]');
      if (b) this.onPick(b.dataset.pick);
    });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) this.poll();
    });
  }

  start() {
    this.poll();
  }

  async poll() {
    clearTimeout(this.timer);
    if (this.busy) return;
    if (document.hidden) {
      this.timer = setTimeout(() => this.poll(), this.interval);
      return;
    }
    this.busy = true;
    try {
      const list = await this.client.topics();
      const arr = Array.isArray(list) ? list : [];
      this.lastRates = this.rates.update(arr, performance.now());
      this.last = arr;
      this.error = '';
    } catch (err) {
      this.error = describe(err);
    } finally {
      this.busy = false;
    }
    this.render();
    this.timer = setTimeout(() => this.poll(), this.interval);
  }

  render() {
    const q = this.filter.value.trim().toLowerCase();
    const cur = this.current();
    const all = this.last;
    const match = q ? all.filter((s) => s.topic.toLowerCase().includes(q)) : all.slice();
    match.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
    const shown = match.slice(0, MAX_ROWS);

    const keep = new Set();
    let before = null; // keyed update: rows keep their element (and focus)
    for (let i = shown.length - 1; i >= 0; i--) {
      const s = shown[i];
      keep.add(s.topic);
      let tr = this.rows.get(s.topic);
      if (!tr) {
        tr = newRow(s.topic);
        this.rows.set(s.topic, tr);
      }
      fillRow(tr, s, this.lastRates.get(s.topic), cur);
      if (tr.nextSibling !== before || tr.parentNode !== this.tbody) this.tbody.insertBefore(tr, before);
      before = tr;
    }
    for (const [name, tr] of this.rows) {
      if (!keep.has(name)) {
        tr.remove();
        this.rows.delete(name);
      }
    }
    let placeholder = this.tbody.querySelector('tr.placeholder');
    if (shown.length === 0) {
      if (!placeholder) {
        placeholder = document.createElement('tr');
        placeholder.className = 'placeholder';
        const td = document.createElement('td');
        td.colSpan = 6;
        placeholder.append(td);
        this.tbody.append(placeholder);
      }
      placeholder.firstChild.textContent = this.error
        ? 'Topics unavailable.'
        : q && all.length
          ? 'No topic matches.'
          : 'No topics yet: publish or subscribe to create one.';
    } else if (placeholder) {
      placeholder.remove();
    }

    let note = '';
    if (this.error) note = this.error;
    else if (match.length > shown.length) note = `Showing ${shown.length} of ${match.length} topics; type to find others.`;
    else if (all.length) note = `${all.length} topic${all.length === 1 ? '' : 's'}.`;
    this.note.textContent = note;
    this.note.classList.toggle('bad', Boolean(this.error));
    this.table.classList.toggle('stale', Boolean(this.error));

    if (this.datalist) {
      const names = shown.map((s) => s.topic).join('\n');
      if (names !== this._names) {
        this._names = names;
        this.datalist.replaceChildren(...shown.map((s) => new Option('', s.topic)));
      }
    }
    if (this.onCurrent && cur) this.onCurrent(all.find((s) => s.topic === cur.topic) || null);
  }
}

function newRow(topic) {
  const tr = document.createElement('tr');
  tr.dataset.topic = topic;
  const th = document.createElement('th');
  th.scope = 'row';
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'linklike';
  b.dataset.pick = topic;
  b.textContent = topic;
  b.title = `Connect to ${topic}`;
  th.append(b);
  tr.append(th);
  for (const cls of ['rate', 'subs', 'head', 'dropped', 'lag']) {
    const td = document.createElement('td');
    td.className = `num ${cls}`;
    tr.append(td);
  }
  return tr;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function fillRow(tr, s, rate, cur) {
  const c = tr.cells;
  const mine = cur && cur.topic === s.topic;
  tr.classList.toggle('current', Boolean(mine));
  setText(c[1], formatRate(rate));
  setText(c[2], formatCount(s.subscribers));
  setText(c[3], formatCount(s.head_seq));
  setText(c[4], formatCount(s.dropped));
  let lag = '—';
  if (typeof s.lag === 'number') lag = formatCount(s.lag);
  else if (mine && cur.lastSeq > 0 && cur.epoch === s.epoch) lag = formatCount(Math.max(0, s.head_seq - cur.lastSeq));
  setText(c[5], lag);
  c[3].title = `oldest retained ${s.oldest_seq ?? '?'}, epoch ${s.epoch ?? '?'}`;
}

/** describe turns a polling failure into a short sentence. */
export function describe(err, what = 'topics') {
  if (err instanceof RingcastError) {
    if (err.status === 401) return 'This server needs a token.';
    if (err.status === 403) return `Your token may not list ${what}.`;
    if (err.status === 0) return 'Cannot reach the server.';
    return `${err.status}: ${err.message}`;
  }
  return String(err && err.message ? err.message : err);
}
