// destinations.js: the destinations panel (webhooks, outbound WebSockets),
// polled from GET /v1/destinations. A server without destinations answers
// 404 or []: the panel then says "no destinations configured".
//
// DOM (stable for tests): #destinations holds either
// <p class="none">no destinations configured</p> or a table whose rows are
// <tr data-destination="name">.

import { formatCount } from './format.js';
import { describe } from './topics.js';

/** field returns the first of names that s has, for servers that spell a field differently. */
function field(s, ...names) {
  for (const n of names) if (s[n] !== undefined && s[n] !== null && s[n] !== '') return s[n];
  return undefined;
}

/** normalize reads one destination's status into {name, type, state, lag, lastError, topics}. */
export function normalize(s) {
  const lastError = field(s, 'last_error', 'lastError', 'error');
  const topics = field(s, 'topics', 'topic');
  return {
    name: String(field(s, 'name', 'id') ?? '?'),
    type: String(field(s, 'type', 'kind') ?? ''),
    state: String(field(s, 'state', 'status') ?? ''),
    lag: field(s, 'lag', 'lag_messages'),
    lastError: lastError === undefined ? '' : typeof lastError === 'string' ? lastError : JSON.stringify(lastError),
    lastErrorTime: String(field(s, 'last_error_time', 'last_error_at') ?? ''),
    topics: Array.isArray(topics) ? topics.join(', ') : topics === undefined ? '' : String(topics),
  };
}

export class DestinationsPanel {
  /**
   * @param {object} o
   * @param {import('./ringcast.js').RingcastClient} o.client
   * @param {HTMLElement} o.box #destinations
   * @param {number} [o.interval] ms between polls (default 2000)
   */
  constructor({ client, box, interval = 2000 }) {
    this.client = client;
    this.box = box;
    this.interval = interval;
    this.timer = 0;
    this.busy = false;
    this.key = '';
  }

  start() {
    this.poll();
  }

  async poll() {
    clearTimeout(this.timer);
    if (this.busy) return;
    if (!document.hidden) {
      this.busy = true;
      let list;
      let error = '';
      try {
        list = await this.client.destinations();
      } catch (err) {
        error = describe(err, 'destinations');
      } finally {
        this.busy = false;
      }
      this.render(list, error);
    }
    this.timer = setTimeout(() => this.poll(), this.interval);
  }

  render(list, error) {
    const key = JSON.stringify([list, error]);
    if (key === this.key) return; // unchanged: leave the DOM (and any selection) alone
    this.key = key;
    if (error) {
      this.box.replaceChildren(para('bad', `Destinations unavailable: ${error}`));
      return;
    }
    if (!Array.isArray(list) || list.length === 0) {
      this.box.replaceChildren(para('none', 'no destinations configured'));
      return;
    }
    const table = document.createElement('table');
    table.className = 'grid';
    const cap = document.createElement('caption');
    cap.className = 'visually-hidden';
    cap.textContent = 'Destinations';
    table.append(cap);
    const head = table.createTHead().insertRow();
    for (const [h, cls] of [['Name', ''], ['State', ''], ['Lag', 'num'], ['Last error', '']]) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.textContent = h;
      if (cls) th.className = cls;
      head.append(th);
    }
    const body = table.createTBody();
    for (const raw of list) {
      const d = normalize(raw);
      const tr = body.insertRow();
      tr.dataset.destination = d.name;
      const th = document.createElement('th');
      th.scope = 'row';
      th.textContent = d.name;
      if (d.type) {
        const type = document.createElement('span');
        type.className = 'type';
        type.textContent = d.type;
        th.append(type);
      }
      if (d.type || d.topics) th.title = [d.type, d.topics].filter(Boolean).join(' · ');
      tr.append(th);
      const state = tr.insertCell();
      const badge = document.createElement('span');
      badge.className = `badge state-${d.state.toLowerCase().replace(/[^a-z0-9-]/g, '') || 'unknown'}`;
      badge.textContent = d.state || '?';
      state.append(badge);
      const lag = tr.insertCell();
      lag.className = 'num';
      lag.textContent = d.lag === undefined ? '—' : formatCount(d.lag);
      const err = tr.insertCell();
      err.className = d.lastError ? 'last-error' : 'last-error none';
      err.textContent = d.lastError || '—';
      if (d.lastErrorTime) err.title = d.lastErrorTime;
    }
    this.box.replaceChildren(table);
  }
}

function para(cls, text) {
  const p = document.createElement('p');
  p.className = cls;
  p.textContent = text;
  return p;
}
