/**
 * Seawall at a service's door — Fastify, Express, Hono: an adaptive concurrency limit admits or
 * sheds each request (503 with `Retry-After`), per-route partitions if asked; and the request's
 * scope — a signal that aborts when the client disconnects, the deadline its `x-request-timeout`
 * header gives — for the calls the handler makes (`resilientFetch`, the HTTP integrations,
 * retries, hedges take them by default). One door (`ServiceDoor`), a thin adapter per framework:
 * `fastify.register(seawallFastify, { … })`, `app.use(seawallExpress({ … }))`,
 * `app.use(seawallHono({ … }))`.
 */
import { Bulkhead } from './bulkhead.js';
import { clock } from './clock.js';
import { argumentError } from './options.js';
import { AdaptiveLimit, type AdaptiveLimitOptions, outcomeOfStatus, type LimitPermit } from './limit.js';
import { inRequest } from './request-context.js';

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
  permit: LimitPermit;
  run: <R>(fn: () => R) => R;
}

/** What a framework's request and response look like to the door. */
interface RawResponse {
  readonly writableFinished: boolean;
  readonly statusCode?: number;
  once(event: 'close' | 'finish', fn: () => void): unknown;
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
    response.once('close', () => {
      if (!response.writableFinished) left.abort(new DOMException('the client disconnected', 'AbortError'));
    });
    bulkhead
      .execute(
        () =>
          new Promise<void>((done) => {
            let given = false;
            const permit: LimitPermit = {
              release: () => {
                if (!given) {
                  given = true;
                  done();
                }
              },
            };
            // The bulkhead holds the place until the response is sent (its time is the sample).
            response.once('close', () => permit.release('ignored'));
            admitted({ permit, run: this.#scope(request, () => left.signal) });
          }),
        left.signal,
      )
      .catch((e: unknown) => {
        if (!left.signal.aborted && (e as { code?: unknown } | null)?.code !== undefined) shed();
      });
  }

  /** A request's scope: the signal its client's leaving aborts (made when first asked for),
   * the deadline it gave. */
  #scope(request: { headers: Record<string, unknown> }, signal: () => AbortSignal): <R>(fn: () => R) => R {
    const given = this.#header === undefined ? undefined : request.headers[this.#header];
    const ms = typeof given === 'string' && given.trim() !== '' ? Number(given) : Number.NaN;
    const deadline = Number.isFinite(ms) && ms >= 0 ? clock().now() + ms : undefined;
    const scope = {
      get signal(): AbortSignal {
        return signal();
      },
      deadline,
    };
    return (fn) => inRequest(scope, fn);
  }

  /**
   * Admits a request: its permit (released with the response's status, or ignored when the
   * client left first), and the scope to run its handler in; undefined when the limit sheds it
   * (answer `shed()`).
   */
  admit(request: { method: string; url: string; headers: Record<string, unknown> }, response: RawResponse): Admitted | undefined {
    if (this.limit === undefined) throw argumentError({ queue: 'admit() on a door with a queue (use enter())' });
    const permit = this.limit.tryAcquire(this.#partition?.(request));
    if (permit === undefined) return undefined;
    // The signal is made when something asks for it (most handlers never do: ~2 µs saved).
    let controller: AbortController | undefined;
    let gone: unknown;
    response.once('close', () => {
      if (response.writableFinished) return;
      // The client went away: its work is cancelled, and says nothing of capacity.
      gone = new DOMException('the client disconnected', 'AbortError');
      controller?.abort(gone);
      permit.release('ignored');
    });
    const signal = (): AbortSignal => {
      if (controller === undefined) {
        controller = new AbortController();
        if (gone !== undefined) controller.abort(gone);
      }
      return controller.signal;
    };
    return { permit, run: this.#scope(request, signal) };
  }

  /** What a shed request is answered: 503, `Retry-After` in seconds, and the reason. */
  shed(): { status: 503; headers: Record<string, string>; body: { error: string; code: 'CONCURRENCY_LIMITED'; message: string } } {
    // Queued out (full, or waited its time): come back in a second.
    const e = this.limit?.refusal();
    const after = e?.retryAfter ?? 1000;
    const message = e?.message ?? 'The service is at its concurrency limit and its queue is full or was too slow; try again in 1 seconds';
    return {
      status: 503,
      headers: { 'retry-after': String(Math.ceil(after / 1000)) },
      body: { error: 'Service Unavailable', code: 'CONCURRENCY_LIMITED', message },
    };
  }
}

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
      (admitted) => {
        // Released as the response is sent (an onResponse hook costs every request more).
        reply.raw.once('finish', () => admitted.permit.release(outcomeOfStatus(reply.raw.statusCode ?? reply.statusCode)));
        admitted.run(next);
      },
      () => {
        const shed = door.shed();
        reply.code(shed.status).headers(shed.headers).send(shed.body);
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
  once(event: 'close' | 'finish', fn: () => void): unknown;
  status(code: number): ExpressResponse;
  set(values: Record<string, string>): ExpressResponse;
  json(body: unknown): unknown;
}

/** The Express middleware (`app.use(seawallExpress(options))`, before the routes). */
export function seawallExpress(options: ServiceDoorOptions = {}): (req: ExpressRequest, res: ExpressResponse, next: () => void) => void {
  const door = new ServiceDoor(options);
  return (req, res, next) =>
    door.enter(
      req,
      res,
      (admitted) => {
        res.once('finish', () => admitted.permit.release(outcomeOfStatus(res.statusCode)));
        admitted.run(next);
      },
      () => {
        const shed = door.shed();
        res.status(shed.status).set(shed.headers).json(shed.body);
      },
    );
}

/** Hono's side of the context a middleware sees (`c.env.outgoing`: @hono/node-server's response). */
interface HonoContext {
  req: { method: string; url: string; raw: { headers: Iterable<[string, string]>; signal?: AbortSignal } };
  res: { status: number };
  env?: { incoming?: { headers: Record<string, unknown> }; outgoing?: RawResponse };
  json(body: unknown, status: number, headers: Record<string, string>): unknown;
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
    const signal = c.req.raw.signal;
    const raw: RawResponse = c.env?.outgoing ?? {
      get writableFinished() {
        return finished;
      },
      once: (_event, fn) => signal?.addEventListener('abort', fn, { once: true }),
    };
    // Node's own headers where there are (a Fetch Headers is made on first use, ~10 µs).
    const headers = c.env?.incoming?.headers ?? Object.fromEntries(c.req.raw.headers);
    const admitted = await new Promise<Admitted | undefined>((resolve) => door.enter({ method: c.req.method, url: c.req.url, headers }, raw, resolve, () => resolve(undefined)));
    if (admitted === undefined) {
      const shed = door.shed();
      return c.json(shed.body, shed.status, shed.headers);
    }
    try {
      await admitted.run(next);
    } finally {
      finished = true;
      admitted.permit.release(outcomeOfStatus(c.res.status));
    }
    return undefined;
  };
}
