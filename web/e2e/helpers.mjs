// helpers.mjs: a real ringcast server for the tests (the binary that
// web/e2e_test.go builds and names in RINGCAST_BIN), TCP proxies that can cut
// or stall connections, and waiting for conditions. Only 127.0.0.1.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HOST = '127.0.0.1';

const here = path.dirname(fileURLToPath(import.meta.url));

/** artifactsDir is where screenshots go: $RINGCAST_ARTIFACTS, else <repo>/artifacts. */
export const artifactsDir = process.env.RINGCAST_ARTIFACTS || path.resolve(here, '..', '..', 'artifacts');

export function bin() {
  const b = process.env.RINGCAST_BIN;
  if (!b) {
    throw new Error(
      'RINGCAST_BIN is not set: run these tests with `go test ./web` (it builds ./cmd/ringcast), ' +
        'or build it yourself: go build -o /tmp/ringcast ./cmd/ringcast && RINGCAST_BIN=/tmp/ringcast node --test',
    );
  }
  if (!fs.existsSync(b)) throw new Error(`RINGCAST_BIN=${b} does not exist`);
  return b;
}

/** freePort asks the kernel for a port that is free now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, HOST, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** waitFor polls cond until it returns a truthy value (returned) or timeout ms pass. */
export async function waitFor(cond, { timeout = 20000, interval = 25, what = 'condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await sleep(interval);
  }
}

const running = new Set();

function killAll() {
  for (const p of running) {
    try {
      p.kill('SIGKILL');
    } catch {
      // gone
    }
  }
}
process.on('exit', killAll);

/**
 * Server runs `ringcast serve` on 127.0.0.1:port. stop() drains it with
 * SIGTERM (WebSocket subscribers get 1001), crash() kills it with SIGKILL,
 * start() (re)starts it on the same port: a restart is a new epoch.
 */
export class Server {
  constructor({ args = [], port = 0 } = {}) {
    this.args = args;
    this.port = port;
    this.proc = null;
    this.log = '';
  }

  get url() {
    return `http://${HOST}:${this.port}`;
  }

  async start() {
    if (!this.port) this.port = await freePort();
    const argv = ['serve', '--listen', `${HOST}:${this.port}`, '--drain-timeout', '3s', ...this.args];
    // The port was free a moment ago, or is ours from before a restart; a
    // bind that races another process is retried a few times.
    for (let attempt = 0; ; attempt++) {
      const proc = spawn(bin(), argv, { stdio: ['ignore', 'pipe', 'pipe'] });
      running.add(proc);
      let exited = null;
      const exit = new Promise((resolve) => {
        // 'close': the process has exited and its output is all read.
        proc.on('close', (code, signal) => {
          exited = { code, signal };
          running.delete(proc);
          resolve();
        });
      });
      proc.stdout.on('data', (d) => (this.log += d));
      proc.stderr.on('data', (d) => (this.log += d));
      this.proc = proc;
      try {
        const ready = waitFor(
          async () => {
            if (exited) return true;
            const res = await fetch(`${this.url}/readyz`);
            return res.status === 200;
          },
          { timeout: 20000, what: `ringcast on ${this.url} to be ready` },
        );
        await Promise.race([ready, exit]);
        if (exited) {
          throw new Error(`ringcast ${argv.join(' ')} exited (${exited.code ?? exited.signal}):\n${this.log}`);
        }
        await ready;
        return this;
      } catch (err) {
        if (exited && /address already in use/.test(this.log) && attempt < 5) {
          await sleep(200);
          continue;
        }
        proc.kill('SIGKILL');
        throw err;
      }
    }
  }

  async _end(signal) {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    const t = setTimeout(() => proc.kill('SIGKILL'), 15000);
    await gone;
    clearTimeout(t);
  }

  /** stop drains the server (SIGTERM) and waits for it to exit. */
  stop() {
    return this._end('SIGTERM');
  }

  /** crash kills the server (SIGKILL): connections just break. */
  crash() {
    return this._end('SIGKILL');
  }

  async restart({ crash = false } = {}) {
    await (crash ? this.crash() : this.stop());
    return this.start();
  }

  /** publish sends one message over HTTP and returns the answer. */
  async publish(topic, data) {
    const res = await fetch(`${this.url}/v1/topics/${topic}`, { method: 'POST', body: data });
    if (res.status !== 201) throw new Error(`publish to ${topic}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  async batch(topic, lines) {
    const res = await fetch(`${this.url}/v1/topics/${topic}/batch`, { method: 'POST', body: lines.join('\n') });
    if (res.status !== 201) throw new Error(`batch to ${topic}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  async topic(name) {
    const res = await fetch(`${this.url}/v1/topics/${name}`);
    return res.status === 200 ? res.json() : null;
  }
}

export async function startServer(opts) {
  return new Server(opts).start();
}

/**
 * startProxy forwards TCP from its own port to target. cut() breaks every
 * connection; stall() stops reading from the server (its socket buffers fill
 * and its writer falls behind) until flow() lets it go on.
 */
export async function startProxy(targetPort) {
  const pairs = new Set();
  let stalled = false;
  const srv = net.createServer((down) => {
    const up = net.connect(targetPort, HOST);
    const pair = { down, up };
    pairs.add(pair);
    const end = () => {
      down.destroy();
      up.destroy();
      pairs.delete(pair);
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
    down.pipe(up);
    if (!stalled) up.pipe(down);
    else up.pause();
  });
  await new Promise((r) => srv.listen(0, HOST, r));
  return {
    port: srv.address().port,
    get url() {
      return `http://${HOST}:${this.port}`;
    },
    get connections() {
      return pairs.size;
    },
    cut() {
      for (const { down, up } of pairs) {
        down.destroy();
        up.destroy();
      }
      pairs.clear();
    },
    stall() {
      stalled = true;
      for (const { down, up } of pairs) {
        up.unpipe(down);
        up.pause();
      }
    },
    flow() {
      stalled = false;
      for (const { down, up } of pairs) up.pipe(down);
    },
    close() {
      this.cut();
      return new Promise((r) => srv.close(r));
    },
  };
}

/**
 * startNoWebSocketProxy is an HTTP proxy that forwards plain requests
 * (streaming their answers) but refuses every WebSocket upgrade with 502,
 * like a proxy that does not allow WebSocket.
 */
export async function startNoWebSocketProxy(targetPort) {
  const sockets = new Set();
  let upgrades = 0;
  const srv = http.createServer((req, res) => {
    const up = http.request(
      { host: HOST, port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (ures) => {
        res.writeHead(ures.statusCode, ures.headers);
        res.flushHeaders(); // an event stream's headers must not wait for its first event
        ures.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  srv.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  srv.on('upgrade', (req, socket) => {
    upgrades++;
    socket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nContent-Length: 26\r\n\r\nWebSocket is not allowed.\n');
  });
  await new Promise((r) => srv.listen(0, HOST, r));
  return {
    port: srv.address().port,
    get url() {
      return `http://${HOST}:${this.port}`;
    },
    get upgrades() {
      return upgrades;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((r) => srv.close(r));
    },
  };
}
