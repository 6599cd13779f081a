/**
 * Seawall at a service's door — Fastify, Express, Hono: an adaptive concurrency limit admits or
 * sheds each request (503 with `Retry-After`), per-route partitions if asked; and the request's
 * scope — a signal that aborts when the client disconnects, the deadline its `x-request-timeout`
 * header gives — for the calls the handler makes (`resilientFetch`, the HTTP integrations,
 * retries, hedges take them by default). One door (`ServiceDoor`), a thin adapter per framework:
 * `fastify.register(seawallFastify, { … })`, `app.use(seawallExpress({ … }))`,
 * `app.use(seawallHono({ … }))`.
 */
import { backend } from './backend.js';
import { Bulkhead } from './bulkhead.js';
import { clock } from './clock.js';
import { argumentError } from './options.js';
import { AdaptiveLimit, type AdaptiveLimitOptions, outcomeOfStatus, type LimitPermit } from './limit.js';
import { inRequest, type RequestScope } from './request-context.js';

export interface ServiceDoorOptions {
  /** The limit, or its options (default: Gradient2 with Netflix's defaults). */
  limit?: AdaptiveLimit | AdaptiveLimitOptions;
  /** A request's partition (the limit's `partitions` name one), e.g. by route. */
  partition?: (request: { method: string; url: string; headers: Record<string, unknown> }) => string | undefined;
  /** The header carrying the client's deadline, in ms (default `x-request-timeout`); false: none. */
  deadlineHeader?: string | false;
  /**
   * Requests beyond the limit wait (newest first: a LIFO queue, as the oldest waiters are the
   * likeliest gone) up to `timeout` ms, at most `maxQueueSize` of them, instead of being shed at
   * once. The limit is then an adaptive bulkhead's: `limit` must be options, without partitions.
   */
  queue?: { maxQueueSize: number; timeout?: number };
}

/** An admitted request: its permit, and the scope to run its handler in. */
export interface Admitted {
  readonly permit: LimitPermit;
  run<R>(fn: () => R): R;
}

/** What a framework's request and response look like to the door. */
interface RawResponse {
  readonly writableFinished: boolean;
  readonly statusCode?: number;
  on(event: 'close', fn: () => void): unknown;
}

/**
 * An admitted request: its permit, and its scope — the store the calls its handler makes read
 * (the signal its client's leaving aborts, made when first asked for; the deadline it gave).
 * One object per request (a class: an object literal with a getter is built slowly).
 */
class Admission implements Admitted, RequestScope {
  #controller: AbortController | undefined;
  #gone: unknown;

  constructor(
    readonly permit: LimitPermit,
    readonly deadline: number | undefined,
    controller?: AbortController,
  ) {
    this.#controller = controller;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#gone !== undefined) this.#controller.abort(this.#gone);
    }
    return this.#controller.signal;
  }

  /** The client went away before its response was sent: its work is cancelled. */
  left(): void {
    this.#gone = new DOMException('the client disconnected', 'AbortError');
    this.#controller?.abort(this.#gone);
  }

  run<R>(fn: () => R): R {
    return inRequest(this, fn);
  }
}

/** A door made once per service: admits a request (its scope and its permit) or sheds it. */
export class ServiceDoor {
  /** The limit (without a queue). */
  readonly limit: AdaptiveLimit | undefined;
  /** The adaptive bulkhead holding the limit and its queue (with `queue`). */
  readonly bulkhead: Bulkhead | undefined;
  readonly #header: string | undefined;
  readonly #partition: ServiceDoorOptions['partition'];

  constructor(options: ServiceDoorOptions = {}) {
    const q = options.queue;
    if (q !== undefined) {
      const limit = options.limit;
      if (limit instanceof AdaptiveLimit || limit?.partitions !== undefined || options.partition !== undefined) {
        throw argumentError({ queue: 'a queue with a limit given as an AdaptiveLimit or with partitions' });
      }
      const { name, seed: _seed, ...adaptive } = limit ?? {};
      this.bulkhead = new Bulkhead({ name, adaptive: { algorithm: 'gradient2', ...adaptive }, maxQueueSize: q.maxQueueSize, queueTimeout: q.timeout, lifo: true });
    } else {
      this.limit = options.limit instanceof AdaptiveLimit ? options.limit : new AdaptiveLimit(options.limit ?? {});
    }
    this.#header = options.deadlineHeader === false ? undefined : (options.deadlineHeader ?? 'x-request-timeout').toLowerCase();
    this.#partition = options.partition;
  }

  /**
   * Lets a request in — `admitted` with its permit and scope, at once or once a queued place
   * comes — or `shed` it (answer `shed()`). A client that leaves while queued gives its place up.
   */
  enter(request: { method: string; url: string; headers: Record<string, unknown> }, response: RawResponse, admitted: (a: Admitted) => void, shed: () => void): void {
    const bulkhead = this.bulkhead;
    if (bulkhead === undefined) {
      const a = this.admit(request, response);
      if (a === undefined) shed();
      else admitted(a);
      return;
    }
    const left = new AbortController();
    // One listener for both ends, as `admit`'s: a client leaving while queued gives its place
    // up; an admitted request holds its place until its response closes (its time the sample).
    let release: (() => void) | undefined;
    response.on('close', () => {
      if (!response.writableFinished) left.abort(new DOMException('the client disconnected', 'AbortError'));
      release?.();
    });
    bulkhead
      .execute(
        () =>
          new Promise<void>((done) => {
            release = done;
            admitted(new Admission({ release: () => done() }, this.#deadline(request), left));
          }),
        left.signal,
      )
      .catch((e: unknown) => {
        if (!left.signal.aborted && (e as { code?: unknown } | null)?.code !== undefined) shed();
      });
  }

  /** The deadline a request's header gives, on the shell's clock. */
  #deadline(request: { headers: Record<string, unknown> }): number | undefined {
    const given = this.#header === undefined ? undefined : request.headers[this.#header];
    // Which texts are a deadline is the core's rule (a decimal number of ms), as in Python.
    const ms = typeof given === 'string' ? backend().headerMs(given) : Number.NaN;
    return Number.isNaN(ms) ? undefined : clock().now() + ms;
  }

  /**
   * Admits a request: its permit (released as the response closes, with its status, or ignored
   * when the client left first; a caller may release it sooner), and the scope to run its
   * handler in; undefined when the limit sheds it (answer `shed()`).
   */
  admit(request: { method: string; url: string; headers: Record<string, unknown> }, response: RawResponse): Admitted | undefined {
    if (this.limit === undefined) throw argumentError({ queue: 'admit() on a door with a queue (use enter())' });
    const permit = this.limit.tryAcquire(this.#partition?.(request));
    if (permit === undefined) return undefined;
    const admission = new Admission(permit, this.#deadline(request));
    // One listener for both ends (a response closes after it is sent, and when its client
    // leaves); it closes once, so `on` (without `once`'s wrapper) is enough.
    response.on('close', () => {
      // Sent: the permit goes back with what the status says of capacity.
      if (response.writableFinished) return permit.release(outcomeOfStatus(response.statusCode ?? 200));
      // Gone: says nothing of capacity.
      admission.left();
      permit.release('ignored');
    });
    return admission;
  }

  /** What a shed request is answered (the core's words): 503, `Retry-After` in seconds, and
   * the reason, as `body` and as the JSON text `json` that is sent. */
  shed(): { status: 503; headers: Record<string, string>; body: ShedBody; json: string } {
    const limit = this.limit;
    // No limit: a queue that was full, or that held the request too long.
    const [retryAfter, json] = backend().shedAnswer(limit?.name ?? null, limit?.retryAfter() ?? Number.NaN) as [string, string];
    return {
      status: 503,
      headers: { 'retry-after': retryAfter },
      json,
      get body(): ShedBody {
        return JSON.parse(json) as ShedBody;
      },
    };
  }
}

/** The JSON body of a shed request's 503. */
export interface ShedBody {
  error: string;
  code: 'CONCURRENCY_LIMITED';
  message: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Fastify's side of the objects the hooks see. */
interface FastifyRequest {
  method: string;
  url: string;
  headers: Record<string, unknown>;
}
interface FastifyReply {
  raw: RawResponse;
  statusCode: number;
  code(status: number): FastifyReply;
  headers(values: Record<string, string>): FastifyReply;
  send(body: unknown): unknown;
}
interface FastifyInstance {
  addHook(name: 'onRequest', hook: (request: FastifyRequest, reply: FastifyReply, done: () => void) => void): unknown;
}

/** The Fastify plugin (`fastify.register(seawallFastify, options)`): applies to every route. */
export function seawallFastify(fastify: FastifyInstance, options: ServiceDoorOptions, done: () => void): void {
  const door = new ServiceDoor(options);
  fastify.addHook('onRequest', (request, reply, next) => {
    door.enter(
      request,
      reply.raw,
      // The door releases the permit as the response closes (an onResponse hook costs more).
      (admitted) => admitted.run(next),
      () => {
        const shed = door.shed();
        reply.code(shed.status).headers({ ...shed.headers, 'content-type': JSON_TYPE }).send(shed.json);
      },
    );
  });
  done();
}
// Not encapsulated (fastify-plugin's marks): the hooks apply to the whole instance.
Object.assign(seawallFastify, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'seawall' });

/** Express's side of the objects a middleware sees. */
interface ExpressRequest {
  method: string;
  url: string;
  headers: Record<string, unknown>;
}
interface ExpressResponse extends RawResponse {
  statusCode: number;
  writeHead(status: number, headers: Record<string, string>): { end(body: string): unknown };
}

/** The Express middleware (`app.use(seawallExpress(options))`, before the routes). */
export function seawallExpress(options: ServiceDoorOptions = {}): (req: ExpressRequest, res: ExpressResponse, next: () => void) => void {
  const door = new ServiceDoor(options);
  return (req, res, next) =>
    door.enter(
      req,
      res,
      (admitted) => admitted.run(next),
      () => {
        // Written raw: `res.json` would hash the body for an ETag, on every request shed.
        const shed = door.shed();
        res.writeHead(shed.status, { ...shed.headers, 'content-type': JSON_TYPE }).end(shed.json);
      },
    );
}

/** Hono's side of the context a middleware sees (`c.env.outgoing`: @hono/node-server's response). */
interface HonoContext {
  req: { method: string; url: string; raw: { headers: Iterable<[string, string]>; signal?: AbortSignal } };
  res: { status: number };
  env?: { incoming?: { headers: Record<string, unknown> }; outgoing?: RawResponse };
  body(data: string, status: number, headers: Record<string, string>): unknown;
}

/**
 * The Hono middleware (`app.use(seawallHono(options))`). On @hono/node-server a client's
 * disconnect is the Node response closing early; elsewhere (Bun, Deno, workerd) the request's
 * own signal.
 */
export function seawallHono(options: ServiceDoorOptions = {}): (c: HonoContext, next: () => Promise<void>) => Promise<unknown> {
  const door = new ServiceDoor(options);
  return async (c, next) => {
    let finished = false;
    const outgoing = c.env?.outgoing;
    // Elsewhere the request's own signal (read only there: on @hono/node-server reading it makes
    // the whole Fetch Request).
    const raw: RawResponse = outgoing ?? signalled(c.req.raw.signal, () => finished);
    // Node's own headers where there are (a Fetch Headers is made on first use, ~10 µs).
    const headers = c.env?.incoming?.headers ?? Object.fromEntries(c.req.raw.headers);
    const request = { method: c.req.method, url: c.req.url, headers };
    // Without a queue the answer is at once (no promise to wait for).
    const admitted = door.limit !== undefined ? door.admit(request, raw) : await new Promise<Admitted | undefined>((resolve) => door.enter(request, raw, resolve, () => resolve(undefined)));
    if (admitted === undefined) {
      const shed = door.shed();
      return c.body(shed.json, shed.status, { ...shed.headers, 'content-type': JSON_TYPE });
    }
    try {
      await admitted.run(next);
    } finally {
      finished = true;
      // On Node the door releases it as the response closes.
      if (outgoing === undefined) admitted.permit.release(outcomeOfStatus(c.res.status));
    }
    return undefined;
  };
}

/** A response as the door sees it where there is only the request's signal: it "closes" when
 * the client leaves (the signal aborts). */
function signalled(signal: AbortSignal | undefined, finished: () => boolean): RawResponse {
  return {
    get writableFinished() {
      return finished();
    },
    on: (_event, fn) => signal?.addEventListener('abort', fn, { once: true }),
  };
}
