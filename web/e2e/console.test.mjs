// The console in a real browser: Playwright (playwright-core) drives
// Debian's chromium headless against real ringcast servers. Run by
// web/e2e_test.go (go test ./web), which builds the server into RINGCAST_BIN
// and checks that chromium and node_modules are there. Each test saves a
// screenshot into artifacts/screenshots/ at the repository root.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { chromium } from 'playwright-core';

import { Server, artifactsDir, startServer, waitFor } from './helpers.mjs';

const CHROMIUM = process.env.RINGCAST_CHROMIUM || '/usr/bin/chromium';
const SHOTS = path.join(artifactsDir, 'screenshots');
const TIMEOUT = 20000;

let browser; // a persistent context: one fresh user-data-dir for the run
let userDataDir;
let srv; // default ring
let small; // --ring-size 8

before(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (make test-deps)`);
  fs.mkdirSync(SHOTS, { recursive: true });
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringcast-chromium-'));
  const servers = Promise.all([startServer(), startServer({ args: ['--ring-size', '8'] })]);
  browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
    reducedMotion: 'reduce',
    timeout: 60000,
  });
  browser.setDefaultTimeout(TIMEOUT);
  [srv, small] = await servers;
});

after(async () => {
  if (browser) await browser.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
  await Promise.all([srv && srv.stop(), small && small.stop()]);
});

/** open opens the console of server s; with a topic in the query it connects at once. */
async function open(s, query = '') {
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(err));
  await page.goto(`${s.url}/${query ? `?${query}` : ''}`);
  if (/(^|&)topic=/.test(query)) await live(page);
  return page;
}

function live(page) {
  return page.locator('#state[data-state="live"]').waitFor();
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** rows returns what the message list shows: [kind, seq|from-to, payload]. */
function rows(page) {
  return page.$$eval('#messages > li:not(.empty)', (lis) =>
    lis.map((li) => {
      if (li.classList.contains('gap')) return ['gap', `${li.dataset.from}-${li.dataset.to}`];
      if (li.classList.contains('reset')) return ['reset', li.dataset.startSeq];
      return ['msg', Number(li.dataset.seq), li.querySelector('.payload').textContent];
    }),
  );
}

async function rowsUntil(page, count, what) {
  let got;
  try {
    await waitFor(
      async () => {
        got = await rows(page);
        return got.length >= count;
      },
      { timeout: TIMEOUT, what },
    );
  } catch (err) {
    err.message += `\nrows: ${JSON.stringify(got)}\nstate: ${await page.textContent('#state')}`;
    throw err;
  }
  return got;
}

async function sendFrom(page, text) {
  await page.fill('#send-text', text);
  await page.press('#send-text', 'Enter');
  await page.locator('#send-status', { hasText: /Sent to/ }).waitFor();
}

function noErrors(...pages) {
  for (const p of pages) assert.deepEqual(p.errors.map(String), [], 'uncaught errors in the page');
}

test('what page A sends, page B shows, with the right seqs', async () => {
  const a = await open(srv, 'topic=chat');
  const b = await open(srv, 'topic=chat');
  await sendFrom(a, 'hello from A');
  await a.locator('#send-status', { hasText: 'Sent to chat: seq 1.' }).waitFor();
  await sendFrom(a, 'second, with "quotes" & <tags>');
  await a.fill('#batch-text', 'batch one\nbatch two\nbatch three');
  await a.click('#send-batch');
  await a.locator('#send-status', { hasText: 'Sent 3 to chat: seq 3–5.' }).waitFor();
  await sendFrom(b, 'reply from B');
  const want = [
    ['msg', 1, 'hello from A'],
    ['msg', 2, 'second, with "quotes" & <tags>'],
    ['msg', 3, 'batch one'],
    ['msg', 4, 'batch two'],
    ['msg', 5, 'batch three'],
    ['msg', 6, 'reply from B'],
  ];
  assert.deepEqual(await rowsUntil(b, 6, 'page B to show 6 messages'), want);
  assert.deepEqual(await rowsUntil(a, 6, 'page A to show 6 messages'), want);
  assert.match(await b.textContent('#state'), /live · chat · WebSocket/);
  assert.match(await b.textContent('#stats'), /6 received · .*last seq 6/);
  await shot(a, 'chat-page-a');
  await shot(b, 'chat-page-b');
  noErrors(a, b);
  await a.close();
  await b.close();
});

test('pause and resume, filter, format, details and copy', async () => {
  await browser.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
  const page = await open(srv, 'topic=tools');
  for (const m of ['alpha', 'beta', '{"kind":"json","n":3}']) await srv.publish('tools', m);
  await rowsUntil(page, 3, '3 messages');

  await page.click('#pause');
  assert.equal(await page.getAttribute('#pause', 'aria-pressed'), 'true');
  for (const m of ['delta', 'epsilon']) await srv.publish('tools', m);
  await page.locator('#pause', { hasText: 'Resume (2 new)' }).waitFor();
  assert.equal((await rows(page)).length, 3, 'rows arrived while paused');
  await page.click('#pause');
  assert.equal(await page.getAttribute('#pause', 'aria-pressed'), 'false');
  await rowsUntil(page, 5, 'the 2 held back messages after resume');

  await page.fill('#filter', 'eps');
  await waitFor(async () => (await rows(page)).length === 1, { what: 'the filter to leave one row' });
  assert.deepEqual(await rows(page), [['msg', 5, 'epsilon']]);
  await page.fill('#filter', '');
  await waitFor(async () => (await rows(page)).length === 5, { what: 'all rows back' });

  const third = page.locator('#messages li.msg[data-seq="3"]');
  await third.getByRole('button', { name: 'Show details of message 3' }).click();
  await third.locator('.details pre', { hasText: '"kind": "json"' }).waitFor(); // pretty-printed
  await third.getByRole('button', { name: 'Copy payload of message 3' }).click();
  await third.locator('button.copy', { hasText: 'Copied' }).waitFor();
  await page.locator('#announce', { hasText: 'Copied the payload of message 3.' }).waitFor({ state: 'attached' });
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), '{"kind":"json","n":3}');

  await page.selectOption('#format', 'json');
  const env = JSON.parse(await page.locator('#messages li.msg[data-seq="1"] .payload').textContent());
  assert.deepEqual(Object.keys(env).slice(0, 2), ['data', 'attrs'], 'the payload comes first in a preview');
  assert.equal(env.seq, 1);
  assert.equal(env.topic, 'tools');
  assert.equal(env.data, 'alpha');
  await page.locator('#messages li.msg[data-seq="2"] button.copy').click();
  await page.locator('#announce', { hasText: 'Copied the envelope of message 2.' }).waitFor({ state: 'attached' });
  const copied = JSON.parse(await page.evaluate(() => navigator.clipboard.readText()));
  assert.deepEqual(Object.keys(copied).slice(0, 4), ['topic', 'seq', 'epoch', 'id'], 'Copy gives the envelope as sent');
  assert.equal(copied.data, 'beta');
  assert.match(page.url(), /format=json/);
  await shot(page, 'tools-json-format');
  await page.selectOption('#format', 'raw');
  assert.equal(await page.locator('#messages li.msg[data-seq="1"] .payload').textContent(), 'alpha');

  await page.click('#disconnect');
  await page.locator('#state[data-state="closed"]', { hasText: 'closed by you' }).waitFor();
  assert.equal(await page.textContent('#connect'), 'Connect');
  noErrors(page);
  await page.close();
});

test('a server restart in the middle: both pages reconnect, nothing is missing, the reset is shown', async () => {
  const own = await startServer();
  try {
    const a = await open(own, 'topic=room'); // WebSocket
    const b = await open(own, 'topic=room&transport=sse'); // the browser's EventSource
    assert.match(await b.textContent('#state'), /· SSE$/);
    await sendFrom(a, 'before 1');
    await sendFrom(b, 'before 2');
    await rowsUntil(a, 2, 'page A: 2 messages before the restart');
    await rowsUntil(b, 2, 'page B: 2 messages before the restart');

    await own.stop(); // drain: subscribers get 1001 going away
    for (const p of [a, b]) await p.locator('#state[data-state="reconnecting"]').waitFor();
    await shot(a, 'restart-reconnecting');
    await own.start(); // same port, new epoch
    await own.publish('room', 'after 1'); // perhaps before the pages are back: must arrive all the same
    await live(a);
    await live(b);
    await sendFrom(a, 'after 2');

    const want = [
      ['msg', 1, 'before 1'],
      ['msg', 2, 'before 2'],
      ['reset', '1'],
      ['msg', 1, 'after 1'],
      ['msg', 2, 'after 2'],
    ];
    assert.deepEqual(await rowsUntil(a, 5, 'page A after the restart'), want);
    assert.deepEqual(await rowsUntil(b, 5, 'page B after the restart'), want);
    const reset = a.locator('#messages li.reset');
    assert.match(await reset.textContent(), /epoch reset: the topic's history started over .*continuing at seq 1/);
    assert.equal(await a.locator('#messages li.gap').count(), 0);
    await shot(a, 'restart-page-a');
    await shot(b, 'restart-page-b');
    noErrors(a, b);
    await a.close();
    await b.close();
  } finally {
    await own.stop();
  }
});

test('a lapped subscriber shows a marked gap', async () => {
  // 50 messages into a ring of 8: only 43..50 are still there.
  for (let i = 1; i <= 50; i += 5) await small.batch('lap', [i, i + 1, i + 2, i + 3, i + 4].map((n) => `m${n}`));
  const page = await open(small, 'topic=lap&from=1');
  const got = await rowsUntil(page, 9, 'a gap row and 8 messages');
  assert.deepEqual(got[0], ['gap', '1-42']);
  assert.deepEqual(
    got.slice(1),
    Array.from({ length: 8 }, (_, i) => ['msg', 43 + i, `m${43 + i}`]),
  );
  assert.equal(await page.textContent('#messages li.gap'), 'missed seqs 1–42 (42 messages)');
  assert.equal(await page.inputValue('#from-seq'), '1');
  await shot(page, 'lapped-gap');
  noErrors(page);
  await page.close();
});

test('the topic list updates: topics, head, subscribers, rate', async () => {
  const page = await open(srv);
  const row = (t) => page.locator(`#topics tbody tr[data-topic="${t}"]`);
  const cell = (t, cls) => row(t).locator(`td.${cls}`);
  await srv.publish('list.alpha', 'a1');
  await srv.publish('list.beta', 'b1');
  await row('list.alpha').waitFor();
  await row('list.beta').waitFor();
  assert.equal(await cell('list.alpha', 'head').textContent(), '1');
  for (let i = 2; i <= 6; i++) await srv.publish('list.alpha', `a${i}`);
  await page.locator('#topics tr[data-topic="list.alpha"] td.head', { hasText: /^6$/ }).waitFor();

  // Choosing a topic in the list connects to it: it becomes a subscriber.
  await row('list.alpha').getByRole('button', { name: 'list.alpha' }).click();
  await live(page);
  assert.equal(await page.inputValue('#topic'), 'list.alpha');
  await page.locator('#topics tr[data-topic="list.alpha"] td.subs', { hasText: /^1$/ }).waitFor();
  assert.match(await row('list.alpha').getAttribute('class'), /current/);

  // A rate shows once messages flow between two polls.
  await waitFor(
    async () => {
      await srv.publish('list.alpha', 'tick');
      const r = await cell('list.alpha', 'rate').textContent();
      return r !== '—' && Number.parseFloat(r) > 0;
    },
    { interval: 100, what: 'a msg/s rate for list.alpha' },
  );
  await page.locator('#topics tr[data-topic="list.alpha"] td.lag', { hasText: /^\d+$/ }).waitFor();
  assert.equal(await cell('list.alpha', 'dropped').textContent(), '0');
  assert.match(await page.textContent('#topics-note'), /\d+ topics?\./);

  await page.fill('#topics-filter', 'beta');
  await waitFor(async () => (await row('list.alpha').count()) === 0, { what: 'the find box to hide list.alpha' });
  assert.equal(await row('list.beta').count(), 1);
  await page.fill('#topics-filter', '');

  // Destinations: this server has none (404 or an empty list).
  await page.locator('#destinations', { hasText: /no destinations configured|Name/ }).waitFor();
  assert.doesNotMatch(await page.textContent('#destinations'), /unavailable|loading/);
  await shot(page, 'topic-list');
  noErrors(page);
  await page.close();
});

test('the destinations panel shows state, lag and last error', async () => {
  // GET /v1/destinations belongs to the destinations work (name, type,
  // state, lag, last_error); the browser answers it here so the panel is
  // tested whatever this build's server has.
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(err));
  let list = [
    { name: 'audit-hook', type: 'webhook', state: 'retrying', lag: 1234, last_error: 'POST https://audit.example/hook: 503 Service Unavailable' },
    { name: 'mirror', type: 'wsclient', state: 'connected', lag: 0, last_error: '' },
  ];
  await page.route('**/v1/destinations', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(list) }),
  );
  await page.goto(srv.url);
  const row = (n) => page.locator(`#destinations tr[data-destination="${n}"]`);
  await row('audit-hook').waitFor();
  assert.deepEqual(
    await row('audit-hook').locator('th, td').allTextContents(),
    ['audit-hookwebhook', 'retrying', '1,234', 'POST https://audit.example/hook: 503 Service Unavailable'],
  );
  assert.deepEqual(await row('mirror').locator('th, td').allTextContents(), ['mirrorwsclient', 'connected', '0', '—']);
  await shot(page, 'destinations');
  list = [{ ...list[0], state: 'delivering', lag: 3, last_error: '' }];
  await page.locator('#destinations tr[data-destination="audit-hook"] td', { hasText: /^delivering$/ }).waitFor();
  assert.equal(await row('mirror').count(), 0);
  noErrors(page);
  await page.close();
});

test('every control has an accessible name; the main controls are found by label and role', async () => {
  const page = await open(srv, 'topic=a11y');
  await srv.publish('a11y', 'one');
  await rowsUntil(page, 1, 'a message row (with its buttons)');
  await page.locator('#topics tr[data-topic="a11y"]').waitFor();

  const labels = {
    Topic: 'topic',
    From: 'from',
    Seq: 'from-seq',
    Policy: 'policy',
    Format: 'format',
    Transport: 'transport',
    Filter: 'filter',
    Token: 'token',
    Find: 'topics-filter',
  };
  for (const [label, id] of Object.entries(labels)) {
    assert.equal(await page.getByLabel(label, { exact: true }).getAttribute('id'), id, `label ${label}`);
  }
  assert.equal(await page.getByRole('textbox', { name: /^Message \(/ }).getAttribute('id'), 'send-text');
  assert.equal(await page.getByRole('textbox', { name: /^Batch \(/ }).getAttribute('id'), 'batch-text');
  for (const name of ['Connect', 'Reconnect', 'Disconnect', 'Pause', 'Clear', 'Send', 'Send batch']) {
    const n = await page.getByRole('button', { name, exact: true }).count();
    if (name === 'Connect' || name === 'Reconnect') continue; // one or the other, by state
    assert.equal(n, 1, `button ${name}`);
  }
  assert.equal(await page.getByRole('button', { name: /^(Connect|Reconnect)$/ }).count(), 1);
  assert.equal(await page.getByRole('list', { name: 'Messages' }).count(), 1);
  assert.equal(await page.getByRole('status').filter({ hasText: 'live' }).count(), 1);

  // Chromium's own accessibility tree: no interactive element without a name.
  const cdp = await browser.newCDPSession(page);
  const { nodes } = await cdp.send('Accessibility.getFullAXTree');
  const interactive = new Set(['button', 'textbox', 'combobox', 'searchbox', 'spinbutton', 'checkbox', 'link', 'listbox', 'radio', 'slider', 'switch', 'tab', 'menuitem']);
  const unnamed = [];
  let count = 0;
  for (const n of nodes) {
    const role = n.role && n.role.value;
    if (n.ignored || !interactive.has(role)) continue;
    count++;
    const name = n.name && typeof n.name.value === 'string' ? n.name.value.trim() : '';
    if (!name) unnamed.push(`${role} (backend node ${n.backendDOMNodeId})`);
  }
  assert.ok(count >= 20, `only ${count} interactive nodes found`);
  assert.deepEqual(unnamed, [], 'controls without an accessible name');
  await shot(page, 'labelled-controls');
  noErrors(page);
  await page.close();
});

test('the main flow works with the keyboard only', async () => {
  const page = await open(srv);
  const focused = () => page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.className || document.activeElement.tagName));
  /** tabTo presses key until the focused element matches, at most max times. */
  async function tabTo(want, key = 'Tab', max = 40) {
    const seen = [];
    for (let i = 0; i < max; i++) {
      await page.keyboard.press(key);
      const f = await focused();
      seen.push(f);
      if (typeof want === 'string' ? f === want : want.test(f)) return;
    }
    assert.fail(`${key} never reached ${want}; focus went ${seen.join(' → ')}`);
  }

  // The first Tab reaches the skip link; Enter jumps to the send box.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to the send box');
  await page.keyboard.press('Enter');
  await waitFor(async () => (await focused()) === 'send-text', { what: 'the skip link to focus the send box' });

  // Topic, Enter: connected.
  await tabTo('topic', 'Shift+Tab');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('kb.room');
  await page.keyboard.press('Enter');
  await live(page);

  // Send box: type, Enter sends; Shift+Enter adds a line.
  await tabTo('send-text');
  await page.keyboard.type('typed line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  await page.keyboard.press('Enter');
  assert.deepEqual(await rowsUntil(page, 1, 'the typed message'), [['msg', 1, 'typed line one ⏎ line two']]);

  // Batch box: Ctrl+Enter sends.
  await tabTo('batch-text');
  await page.keyboard.type('k1');
  await page.keyboard.press('Enter');
  await page.keyboard.type('k2');
  await page.keyboard.press('Control+Enter');
  await rowsUntil(page, 3, 'the batch');

  // Back into the list: a row's details open with Enter.
  await tabTo(/^expand$/, 'Shift+Tab');
  await page.keyboard.press('Enter');
  await page.locator('#messages li.msg.open .details').waitFor();
  assert.equal(await page.locator('#messages button.expand[aria-expanded="true"]').count(), 1);

  // Pause with the keyboard, and resume.
  await tabTo('pause', 'Shift+Tab');
  await page.keyboard.press('Enter');
  assert.equal(await page.getAttribute('#pause', 'aria-pressed'), 'true');
  await page.keyboard.press('Space');
  assert.equal(await page.getAttribute('#pause', 'aria-pressed'), 'false');

  // The focus ring is visible on the focused control.
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'no visible focus indicator');
  await shot(page, 'keyboard-only');
  noErrors(page);
  await page.close();
});

test('the client the console imports is the one the server serves at /v1/client.js', async () => {
  const page = await open(srv);
  const same = await page.evaluate(async () => {
    const [a, b] = await Promise.all(['./ringcast.js', '/v1/client.js'].map((u) => fetch(u).then((r) => r.text())));
    const m = await import('/v1/client.js');
    return { equal: a === b && a.length > 1000, subscribe: typeof m.subscribe, publisher: typeof m.publisher };
  });
  assert.deepEqual(same, { equal: true, subscribe: 'function', publisher: 'function' });
  noErrors(page);
  await page.close();
});

describe('with auth on', () => {
  test('a missing token shows a clear message; entering it connects', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringcast-auth-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const token = 's3cr3t-console-token';
    const cfg = path.join(dir, 'ringcast.yaml');
    fs.writeFileSync(
      cfg,
      [
        'auth:',
        '  tokens:',
        `    - token_sha256: "${createHash('sha256').update(token).digest('hex')}"`,
        '      publish: ["private.>"]',
        '      subscribe: ["private.>"]',
        '',
      ].join('\n'),
    );
    const own = new Server({ args: ['--config', cfg] });
    try {
      await own.start();
    } catch (err) {
      if (/auth is valid but not supported by this build yet/.test(err.message)) {
        t.skip('auth (issue 6) is not implemented yet: `ringcast serve` refuses the auth: section; this test runs as soon as it does');
        return;
      }
      throw err;
    }
    try {
      const page = await open(own);
      await page.fill('#topic', 'private.room');
      await page.press('#topic', 'Enter');
      await page.locator('#state[data-state="closed"]', { hasText: 'needs a token' }).waitFor();
      await page.locator('#error:not([hidden])', { hasText: 'This server needs a token. Enter it in the Token field' }).waitFor();
      await page.locator('#topics-note', { hasText: 'This server needs a token.' }).waitFor();
      await shot(page, 'auth-missing-token');

      await page.fill('#token', token);
      await page.press('#token', 'Tab'); // change: reconnects with the token
      await live(page);
      assert.equal(await page.isHidden('#error'), true);
      await sendFrom(page, 'with a token');
      assert.deepEqual(await rowsUntil(page, 1, 'the message sent with a token'), [['msg', 1, 'with a token']]);
      await shot(page, 'auth-with-token');
      noErrors(page);
      await page.close();
    } finally {
      await own.stop();
    }
  });
});

test('with a document root the console lives at /console and / is the site', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringcast-docroot-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>site</title><h1 id="site">my site</h1>\n');
  const cfg = path.join(dir, 'ringcast.yaml');
  fs.writeFileSync(cfg, `document_root: ${JSON.stringify(dir)}\n`);
  const own = await startServer({ args: ['--config', cfg] });
  try {
    const site = await browser.newPage();
    await site.goto(`${own.url}/`);
    assert.equal(await site.textContent('#site'), 'my site');
    await site.close();

    const page = await browser.newPage();
    page.errors = [];
    page.on('pageerror', (err) => page.errors.push(err));
    await page.goto(`${own.url}/console?topic=docroot`); // redirected to /console/?topic=docroot
    assert.equal(new URL(page.url()).pathname, '/console/');
    await live(page);
    await own.publish('docroot', 'from the server');
    await sendFrom(page, 'from the page');
    assert.deepEqual(await rowsUntil(page, 2, 'two rows on the console under /console/'), [
      ['msg', 1, 'from the server'],
      ['msg', 2, 'from the page'],
    ]);
    await shot(page, 'console-under-document-root');
    noErrors(page);
    await page.close();
  } finally {
    await own.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
