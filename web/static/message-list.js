// message-list.js: the live message list. Entries arrive at any rate; they
// are rendered at most once per animation frame, the list keeps only the last
// `cap` entries, a pause buffers (also capped) and a filter hides rows.
//
// DOM (stable for tests):
//   <li class="msg" data-seq="N" data-epoch="E">   a message
//   <li class="gap" data-from="A" data-to="B">      seqs A..B were missed
//   <li class="reset" data-epoch-from data-epoch-to data-start-seq>  epoch changed

import { b64ToBytes, formatSize, formatTime, hexDump, payloadOf, pretty, preview, seqRange } from './format.js';

const DETAIL_MAX = 64 * 1024; // characters of payload shown in a row's details

export class MessageList {
  /**
   * @param {HTMLOListElement} el the list (#messages), also the scroll container
   * @param {object} [opts]
   * @param {number} [opts.cap] rows kept (default 1000)
   * @param {'raw'|'json'} [opts.format] rows show the payload (raw) or the whole envelope (json)
   * @param {Function} [opts.onChange] called after a render with {shown, kept, buffered, paused}
   * @param {Function} [opts.announce] tells screen reader users what a button did ("Copied …")
   */
  constructor(el, { cap = 1000, format = 'raw', onChange = () => {}, announce = () => {} } = {}) {
    this.el = el;
    this.cap = cap;
    this.format = format === 'json' ? 'json' : 'raw';
    this.onChange = onChange;
    this.announce = announce;
    this.entries = []; // rendered entries, oldest first, at most cap
    this.pending = []; // entries waiting for the next frame (or for resume), at most cap
    this.pendingTotal = 0; // messages that arrived while paused (also those beyond cap)
    this.paused = false;
    this.filter = '';
    this.frame = 0;
    this.empty = document.createElement('li');
    this.empty.className = 'empty';
    this.el.append(this.empty);
    this._setEmptyText();
    el.addEventListener('click', (ev) => this._click(ev));
  }

  /** addMessage queues a format=json envelope. */
  addMessage(env) {
    this._push({ kind: 'msg', env, seq: env.seq, p: null, lower: null, el: null });
  }

  /** addGap queues a "missed seqs from–to" marker. */
  addGap(from, to) {
    this._push({ kind: 'gap', from, to, el: null });
  }

  /** addReset queues an "epoch changed" marker. */
  addReset(fromEpoch, toEpoch, seq) {
    this._push({ kind: 'reset', from: fromEpoch, to: toEpoch, seq, el: null });
  }

  clear() {
    for (const e of this.entries) if (e.el) e.el.remove();
    this.entries = [];
    this.pending = [];
    this.pendingTotal = 0;
    this._setEmptyText();
    this._changed();
  }

  setPaused(paused) {
    if (this.paused === paused) return;
    this.paused = paused;
    if (!paused) {
      this.pendingTotal = 0;
      this._schedule();
    }
    this._changed();
  }

  setFilter(text) {
    const f = text.trim().toLowerCase();
    if (f === this.filter) return;
    this.filter = f;
    const stick = this._atBottom();
    const frag = document.createDocumentFragment();
    for (const e of this.entries) {
      const show = this._matches(e);
      if (show) {
        if (!e.el) e.el = this._render(e);
        frag.append(e.el); // moves existing rows, keeping order
      } else if (e.el) {
        e.el.remove();
        e.el = null;
      }
    }
    this.el.append(frag);
    this._setEmptyText();
    if (stick) this._scrollToBottom();
    this._changed();
  }

  /** setFormat shows rows as payloads ('raw') or as whole envelopes ('json'). */
  setFormat(format) {
    const f = format === 'json' ? 'json' : 'raw';
    if (f === this.format) return;
    this.format = f;
    const stick = this._atBottom();
    const frag = document.createDocumentFragment();
    for (const e of this.entries) {
      e.lower = null;
      if (e.el) e.el.remove();
      e.el = this._matches(e) ? this._render(e) : null;
      if (e.el) frag.append(e.el);
    }
    this.el.append(frag);
    this._setEmptyText();
    if (stick) this._scrollToBottom();
    this._changed();
  }

  /** stats returns {shown, kept, buffered, paused}. */
  stats() {
    let shown = 0;
    for (const e of this.entries) if (e.el) shown++;
    return { shown, kept: this.entries.length, buffered: this.paused ? this.pendingTotal : 0, paused: this.paused };
  }

  _push(entry) {
    this.pending.push(entry);
    if (this.pending.length > this.cap * 2) this.pending.splice(0, this.pending.length - this.cap);
    if (this.paused) {
      if (entry.kind === 'msg') this.pendingTotal++;
      this._changedSoon();
      return;
    }
    this._schedule();
  }

  _schedule() {
    if (this.frame) return;
    const raf = globalThis.requestAnimationFrame || ((f) => setTimeout(f, 16));
    this.frame = raf(() => {
      this.frame = 0;
      this._flush();
    });
  }

  _changedSoon() {
    if (this._changeTimer) return;
    this._changeTimer = setTimeout(() => {
      this._changeTimer = 0;
      this._changed();
    }, 100);
  }

  _flush() {
    if (this.paused || this.pending.length === 0) return;
    let batch = this.pending;
    this.pending = [];
    if (batch.length > this.cap) batch = batch.slice(batch.length - this.cap);
    const stick = this._atBottom();
    const frag = document.createDocumentFragment();
    for (const e of batch) {
      if (this._matches(e)) {
        e.el = this._render(e);
        frag.append(e.el);
      }
    }
    this.entries.push(...batch);
    const over = this.entries.length - this.cap;
    if (over > 0) {
      for (const e of this.entries.splice(0, over)) if (e.el) e.el.remove();
    }
    this.el.append(frag);
    this._setEmptyText();
    if (stick) this._scrollToBottom();
    this._changed();
  }

  _changed() {
    this.onChange(this.stats());
  }

  _atBottom() {
    const el = this.el;
    return el.scrollHeight - el.scrollTop - el.clientHeight < 48;
  }

  _scrollToBottom() {
    this.el.scrollTop = this.el.scrollHeight;
  }

  _setEmptyText() {
    if (this.entries.some((e) => e.el)) {
      this.empty.remove();
      return;
    }
    this.empty.textContent =
      this.entries.length > 0 ? 'No message matches the filter.' : 'No messages yet. Connect to a topic, or send one.';
    if (!this.empty.isConnected) this.el.prepend(this.empty);
  }

  /** _copyText is what Copy puts on the clipboard (and what the filter searches). */
  _copyText(e) {
    if (this.format === 'json') return JSON.stringify(e.env);
    const p = this._payload(e);
    return p.text !== null ? p.text : p.b64;
  }

  _payload(e) {
    if (!e.p) e.p = payloadOf(e.env);
    return e.p;
  }

  _matches(e) {
    if (!this.filter || e.kind !== 'msg') return true;
    if (e.lower === null) e.lower = this._copyText(e).toLowerCase();
    return e.lower.includes(this.filter) || String(e.seq) === this.filter;
  }

  _render(e) {
    const li = document.createElement('li');
    if (e.kind === 'gap') {
      li.className = 'gap';
      li.dataset.from = String(e.from);
      li.dataset.to = String(e.to);
      const n = e.to - e.from + 1;
      li.textContent = `missed seqs ${seqRange(e.from, e.to)} (${n.toLocaleString('en-US')} message${n === 1 ? '' : 's'})`;
      return li;
    }
    if (e.kind === 'reset') {
      li.className = 'reset';
      li.dataset.epochFrom = e.from;
      li.dataset.epochTo = e.to;
      li.dataset.startSeq = String(e.seq);
      li.textContent = `epoch reset: the topic's history started over (epoch ${e.from} → ${e.to}); continuing at seq ${e.seq}`;
      return li;
    }
    const env = e.env;
    const p = this._payload(e);
    li.className = 'msg';
    li.dataset.seq = String(env.seq);
    if (env.epoch) li.dataset.epoch = env.epoch;

    const expand = button('expand', '▸', `Show details of message ${env.seq}`);
    expand.setAttribute('aria-expanded', 'false');

    const seq = span('seq', String(env.seq));
    const time = document.createElement('time');
    time.className = 'time';
    time.textContent = formatTime(env.time);
    if (env.time) {
      time.dateTime = env.time;
      time.title = env.time;
    }
    const size = span('size', formatSize(p.size));
    const body = span('payload', '');
    if (this.format === 'json') {
      body.classList.add('envelope');
      body.textContent = preview(JSON.stringify(previewOrder(env)));
    } else if (p.binary) {
      body.classList.add('bin');
      body.append(span('tag', 'b64'), document.createTextNode(preview(p.b64, 200)));
      body.title = 'binary payload, shown as base64';
    } else if (p.text === '') {
      body.classList.add('none');
      body.textContent = '(empty)';
    } else {
      body.textContent = preview(p.text);
    }
    const copy = button('copy', 'Copy', `Copy payload of message ${env.seq}`);
    li.append(expand, seq, time, size, body, copy);
    return li;
  }

  _details(e) {
    const env = e.env;
    const p = this._payload(e);
    const box = document.createElement('div');
    box.className = 'details';
    const dl = document.createElement('dl');
    const row = (k, v) => {
      if (v === undefined || v === null || v === '') return;
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      dl.append(dt, dd);
    };
    row('topic', env.topic);
    row('seq', String(env.seq));
    row('epoch', env.epoch);
    row('id', env.id);
    row('time', env.time);
    row('size', `${p.size} bytes${p.binary ? ' (binary)' : ''}`);
    if (env.attrs) for (const [k, v] of Object.entries(env.attrs)) row(`attr ${k}`, v);
    box.append(dl);
    const pre = document.createElement('pre');
    if (this.format === 'json') {
      pre.textContent = JSON.stringify(env, null, 2);
    } else if (p.binary) {
      let dump;
      try {
        dump = hexDump(b64ToBytes(p.b64), 1024);
      } catch {
        dump = p.b64;
      }
      pre.textContent = dump;
    } else {
      const t = p.text.length > DETAIL_MAX ? `${p.text.slice(0, DETAIL_MAX)}\n… (${p.text.length - DETAIL_MAX} more characters)` : p.text;
      pre.textContent = (p.text.length <= DETAIL_MAX && pretty(t)) || t;
    }
    box.append(pre);
    return box;
  }

  _entryOf(li) {
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i].el === li) return this.entries[i];
    return null;
  }

  _click(ev) {
    const btn = ev.target.closest('button');
    if (!btn || !this.el.contains(btn)) return;
    const li = btn.closest('li');
    const e = li && this._entryOf(li);
    if (!e) return;
    if (btn.classList.contains('expand')) {
      const open = btn.getAttribute('aria-expanded') !== 'true';
      btn.setAttribute('aria-expanded', String(open));
      btn.textContent = open ? '▾' : '▸';
      btn.setAttribute('aria-label', `${open ? 'Hide' : 'Show'} details of message ${e.seq}`);
      const old = li.querySelector('.details');
      if (old) old.remove();
      if (open) li.append(this._details(e));
      li.classList.toggle('open', open);
    } else if (btn.classList.contains('copy')) {
      const what = this.format === 'json' ? 'envelope' : 'payload';
      copyText(this._copyText(e)).then(
        () => {
          flash(btn, 'Copied');
          this.announce(`Copied the ${what} of message ${e.seq}.`);
        },
        () => {
          flash(btn, 'Copy failed');
          this.announce(`Could not copy message ${e.seq}: the browser refused the clipboard.`);
        },
      );
    }
  }
}

/** previewOrder puts the payload first, so a one-line preview shows it; Copy gives the envelope as sent. */
function previewOrder(env) {
  const out = {};
  for (const k of ['data', 'data_b64', 'attrs']) if (env[k] !== undefined) out[k] = env[k];
  for (const [k, v] of Object.entries(env)) if (!(k in out)) out[k] = v;
  return out;
}

function span(cls, text) {
  const s = document.createElement('span');
  s.className = cls;
  s.textContent = text;
  return s;
}

function button(cls, text, label) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.textContent = text;
  b.setAttribute('aria-label', label);
  return b;
}

function flash(btn, text) {
  const old = btn.dataset.label || btn.textContent;
  btn.dataset.label = old;
  btn.textContent = text;
  clearTimeout(btn._flash);
  btn._flash = setTimeout(() => {
    btn.textContent = old;
  }, 1200);
}

/** copyText puts text on the clipboard: the async API where allowed, else a hidden textarea. */
export async function copyText(text) {
  if (navigator.clipboard && globalThis.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // permission denied or unfocused document: fall back
    }
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.top = '-1000px';
  ta.style.opacity = '0';
  const focused = document.activeElement;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } finally {
    ta.remove();
    if (focused && focused.focus) focused.focus();
  }
  if (!ok) throw new Error('copy refused');
}
