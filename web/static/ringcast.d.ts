// Type declarations for ringcast.js, the Ringcast JavaScript client.

export const VERSION: string;

/** A message as the server sends it with format=json. */
export interface Envelope {
  topic: string;
  /** per-topic sequence, from 1, +1 per accepted message within an epoch */
  seq: number;
  /** names one incarnation of the topic's history */
  epoch: string;
  /** UUID v7 */
  id: string;
  /** ingest time, RFC 3339 in UTC with up to nanoseconds */
  time: string;
  /** the payload, when it is valid UTF-8 */
  data?: string;
  /** the payload in standard base64, when it is not valid UTF-8 */
  data_b64?: string;
  attrs?: Record<string, string>;
}

export interface PublishResult {
  topic: string;
  seq: number;
  epoch: string;
  id: string;
  time: string;
}

export interface BatchResult {
  topic: string;
  first_seq: number;
  last_seq: number;
  count: number;
}

export interface TopicStats {
  topic: string;
  epoch: string;
  head_seq: number;
  oldest_seq: number;
  subscribers: number;
  published: number;
  dropped: number;
}

export interface DestinationStatus {
  name: string;
  type?: string;
  state?: string;
  lag?: number;
  last_error?: string;
  [field: string]: unknown;
}

/** An error answered by the server ({"error","code"}) or by the network. */
export class RingcastError extends Error {
  constructor(message: string, init?: { status?: number; code?: string; retryAfter?: number; closeCode?: number });
  name: 'RingcastError';
  /** HTTP status; 0 when there was no HTTP answer */
  status: number;
  /** the contract's snake_case code (unauthorized, backpressure, …); '' if none */
  code: string;
  /** seconds from Retry-After; 0 if absent */
  retryAfter: number;
  /** WebSocket close code; 0 if none */
  closeCode: number;
}

export type StateName = 'connecting' | 'live' | 'reconnecting' | 'closed';

export const State: {
  readonly CONNECTING: 'connecting';
  readonly LIVE: 'live';
  readonly RECONNECTING: 'reconnecting';
  readonly CLOSED: 'closed';
};

export type Transport = 'ws' | 'sse';
export type From = 'latest' | 'oldest' | number;
export type Policy = 'drop-oldest' | 'disconnect' | 'block';
export type Payload = string | Uint8Array | ArrayBuffer | Blob;

export interface Backoff {
  /** ms; the cap grows as base * 2^attempt (default 250) */
  base?: number;
  /** ms; largest wait (default 15000) */
  max?: number;
  /** ms; smallest wait (default 100) */
  min?: number;
}

export interface StateChange {
  state: StateName;
  transport: Transport;
  /** reconnect attempts since the last connection that delivered */
  attempt: number;
  /** ms until the next attempt (reconnecting) */
  delay?: number;
  /** Date.now() of the next attempt (reconnecting) */
  at?: number;
  /** why the connection ended or was refused, for people */
  reason?: string;
  /** ms a draining server asked to wait before reconnecting, included in delay (reconnecting) */
  hint?: number;
  /** the refusal that closed the subscription for good */
  error?: RingcastError;
  url?: string;
}

/** seqs from..to (inclusive) of epoch were not delivered to this subscriber */
export interface Gap {
  from: number;
  to: number;
  count: number;
  epoch: string;
}

/** the topic's history started over: old seqs mean nothing any more */
export interface Reset {
  previousEpoch: string;
  epoch: string;
  /** the first seq delivered in the new epoch */
  seq: number;
  /** the last seq delivered in the previous epoch (0: none) */
  lastSeq: number;
}

/** Where the server is and how to reach it. */
export interface ClientOptions {
  /** server origin and optional path prefix; default: the page's origin, else http://127.0.0.1:8080 */
  baseURL?: string;
  /** bearer token: `?token=` on WebSocket/EventSource URLs, `Authorization: Bearer` on fetch */
  token?: string;
  fetch?: typeof globalThis.fetch;
  /** a WebSocket constructor (node: `import WebSocket from 'ws'`) */
  WebSocket?: unknown;
  /** an EventSource constructor; absent: SSE is read with fetch */
  EventSource?: unknown;
}

interface SubscribeBase {
  /** where to start: 'latest' (default), 'oldest' or a seq */
  from?: From | `${number}`;
  /** the epoch `from` belongs to, if from is a seq */
  epoch?: string;
  policy?: Policy;
  /** 'auto' (default): WebSocket, SSE when WebSocket is missing or refused */
  transport?: 'auto' | Transport;
  /** token for this subscription (default: the client's) */
  token?: string;
  /** turn from=latest into head_seq + 1 before connecting (default true) */
  resolveLatest?: boolean;
  backoff?: Backoff;
  /** WebSocket handshakes refused in a row before 'auto' uses SSE (default 3) */
  fallbackAfter?: number;
  /** closes the subscription when aborted */
  signal?: AbortSignal;
  onGap?(gap: Gap): void;
  onReset?(reset: Reset): void;
  onState?(change: StateChange): void;
  onError?(err: RingcastError): void;
}

export interface SubscribeJSONOptions extends SubscribeBase {
  format?: 'json';
  /** each message, in seq order, without duplicates */
  onMessage?(message: Envelope): void;
}

export interface SubscribeRawOptions extends SubscribeBase {
  format: 'raw';
  /** the payload: a string, or the bytes when it is not valid UTF-8 */
  onMessage?(payload: string | Uint8Array, envelope: Envelope): void;
}

export type SubscribeOptions = SubscribeJSONOptions | SubscribeRawOptions;

export interface RequestOptions {
  signal?: AbortSignal;
  token?: string;
}

export interface PublishOptions extends RequestOptions {
  /** default text/plain; charset=utf-8 for strings, application/octet-stream for bytes */
  contentType?: string;
  /** sent as X-Ringcast-Attr-<name> headers */
  attrs?: Record<string, string | number | boolean>;
}

export interface BatchOptions extends RequestOptions {
  contentType?: string;
}

export interface PublisherOptions {
  /** bytes buffered in the socket above which send() waits (default 1 MiB) */
  highWaterMark?: number;
  /** ms between bufferedAmount checks while waiting (default 10) */
  pollInterval?: number;
  token?: string;
}

export class Subscription {
  readonly topic: string;
  readonly format: 'json' | 'raw';
  /** the transport in use now ('auto' may switch from ws to sse) */
  readonly transport: Transport;
  readonly state: StateName | '';
  /** the last seq delivered (0: none yet) */
  readonly lastSeq: number;
  /** the epoch of lastSeq */
  readonly epoch: string;
  /** messages delivered */
  readonly received: number;
  readonly closed: boolean;
  /** resolves once the subscription has closed, by close() or by a refusal */
  readonly done: Promise<{ reason: string; error: RingcastError | null }>;
  /** ends the subscription for good */
  close(reason?: string): void;
  /** skips the rest of a backoff wait */
  reconnectNow(): void;
  /** the from and epoch the next connect will use */
  resumeParams(): { from: From; epoch: string };
  /** the URL the next connect will use */
  streamURL(opts?: { withToken?: boolean }): string;
  /** runs one envelope through the seq/epoch bookkeeping, as if it had arrived */
  accept(envelope: Envelope): void;
}

export class Publisher {
  readonly topic: string;
  readonly url: string;
  readonly highWaterMark: number;
  /** frames handed to the socket */
  readonly sent: number;
  readonly bufferedAmount: number;
  /** why the connection failed or ended abnormally, once it has */
  readonly error: RingcastError | null;
  /** resolves when the connection is open; rejects with why it is not */
  readonly ready: Promise<void>;
  /** resolves when the connection has ended */
  readonly closed: Promise<{ code: number; reason: string; error: RingcastError | null }>;
  /** sends one message (one frame) and resolves when bufferedAmount is below highWaterMark */
  send(data: Payload): Promise<void>;
  /** resolves when nothing is buffered any more */
  flush(): Promise<void>;
  /** flushes, then closes normally */
  close(): Promise<{ code: number; reason: string; error: RingcastError | null }>;
}

export class RingcastClient {
  constructor(opts?: ClientOptions);
  readonly baseURL: string;
  token: string;
  setToken(token: string): void;
  url(path: string, params?: Record<string, string | number | undefined | null>): string;
  topicPath(topic: string, suffix?: string): string;
  /** a fetch with the bearer token; a non-2xx answer rejects with a RingcastError */
  request(
    path: string,
    opts?: RequestOptions & { method?: string; body?: BodyInit; headers?: Record<string, string> },
  ): Promise<Response>;
  getJSON<T = unknown>(path: string, opts?: RequestOptions): Promise<T>;
  publish(topic: string, data: Payload, opts?: PublishOptions): Promise<PublishResult>;
  publishBatch(topic: string, items: string[] | string, opts?: BatchOptions): Promise<BatchResult>;
  publisher(topic: string, opts?: PublisherOptions): Publisher;
  subscribe(topic: string, opts: SubscribeRawOptions): Subscription;
  subscribe(topic: string, opts?: SubscribeJSONOptions): Subscription;
  messages(topic: string, opts?: RequestOptions & { from?: From; limit?: number; epoch?: string }): Promise<Envelope[]>;
  topics(opts?: RequestOptions): Promise<TopicStats[]>;
  /** null when the topic does not exist */
  topic(name: string, opts?: RequestOptions): Promise<TopicStats | null>;
  /** null when the server has no destinations endpoint */
  destinations(opts?: RequestOptions): Promise<DestinationStatus[] | null>;
}

/** Options of the module-level functions: the call's own, plus where the server is. */
export type With<T> = T & ClientOptions & { client?: RingcastClient };

export function subscribe(topic: string, opts: With<SubscribeRawOptions>): Subscription;
export function subscribe(topic: string, opts?: With<SubscribeJSONOptions>): Subscription;
export function publish(topic: string, data: Payload, opts?: With<PublishOptions>): Promise<PublishResult>;
export function publishBatch(topic: string, items: string[] | string, opts?: With<BatchOptions>): Promise<BatchResult>;
export function publisher(topic: string, opts?: With<PublisherOptions>): Publisher;

/** whether name is a topic name the contract accepts: [A-Za-z0-9_.-]{1,128} */
export function validTopic(name: string): boolean;
/** ms to wait before reconnect attempt n (0-based), full-jitter exponential */
export function backoffDelay(n: number, opts?: Backoff & { random?: () => number }): number;
/** a refusal as a sentence for people */
export function refusalReason(err: RingcastError): string;
/**
 * The wait in ms a draining server asked for when a connection ended, or 0:
 * a close event with code 1001 and a reason "draining; reconnect in <ms> ms",
 * or {retry} from the end of an SSE stream (at most 60000).
 */
export function reconnectHint(ev: { code?: number; reason?: string; retry?: number } | null | undefined): number;

/** EventSource over fetch, used where EventSource is missing (node) */
export class FetchEventSource {
  constructor(url: string, opts: { fetch: typeof globalThis.fetch; headers?: Record<string, string> });
  readonly url: string;
  readonly readyState: 0 | 1 | 2;
  readonly refusal: RingcastError | null;
  /** ms of the stream's last "retry" field (a draining server's reconnect hint), if any */
  readonly retry: number | undefined;
  onopen: ((ev: { type: 'open' }) => void) | null;
  onmessage: ((ev: { type: string; data: string; lastEventId: string }) => void) | null;
  onerror: ((ev: { type: 'error' }) => void) | null;
  addEventListener(type: string, fn: (ev: { type: string; data: string; lastEventId: string }) => void): void;
  close(): void;
}
