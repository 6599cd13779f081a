/**
 * Seawall at a service's door — Fastify, Express, Hono: an adaptive concurrency limit admits or
 * sheds each request (503 with `Retry-After`), per-route partitions if asked; and the request's
 * scope — a signal that aborts when the client disconnects, the deadline its `x-request-timeout`
 * header gives — for the calls the handler makes (`resilientFetch`, the HTTP integrations,
 * retries, hedges take them by default). One door (`ServiceDoor`), a thin adapter per framework:
 * `fastify.register(seawallFastify, { … })`, `app.use(seawallExpress({ … }))`,
 * `app.use(seawallHono({ … }))`.
 */
import { clock } from './clock.js';
import { AdaptiveLimit, type AdaptiveLimitOptions, outcomeOfStatus, type LimitPermit } from './limit.js';
import { inRequest } from './request-context.js';

export interface ServiceDoorOptions {
  /** The limit, or its options (default: Gradient2 with Netflix's defaults). */
  limit?: AdaptiveLimit | AdaptiveLimitOptions;
  /** A request's partition (the limit's `partitions` name one), e.g. by route. */
  partition?: (request: { method: string; url: string; headers: Record<string, unknown> }) => string | undefined;
  /** The header carrying the client's deadline, in ms (default `x-request-timeout`); false: none. */
  deadlineHeader?: string | false;
}

/** What a framework's request and response look like to the door. */
interface RawResponse {
  readonly writableFinished: boolean;
  readonly statusCode?: number;
  once(event: 'close' | 'finish', fn: () => void): unknown;
}

/** A door made once per service: admits a request (its scope and its permit) or sheds it. */
export class ServiceDoor {
  readonly limit: AdaptiveLimit;
  readonly #header: string | undefined;
  readonly #partition: ServiceDoorOptions['partition'];

  constructor(options: ServiceDoorOptions = {}) {
    this.limit = options.limit instanceof AdaptiveLimit ? options.limit : new AdaptiveLimit(options.limit ?? {});
    this.#header = options.deadlineHeader === false ? undefined : (options.deadlineHeader ?? 'x-request-timeout').toLowerCase();
    this.#partition = options.partition;
  }

  /**
   * Admits a request: its permit (released with the response's status, or ignored when the
   * client left first), and the scope to run its handler in; undefined when the limit sheds it
   * (answer `shed()`).
   */
  admit(request: { method: string; url: string; headers: Record<string, unknown> }, response: RawResponse): { permit: LimitPermit; run: <R>(fn: () => R) => R } | undefined {
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
    const given = this.#header === undefined ? undefined : request.headers[this.#header];
    const ms = typeof given === 'string' && given.trim() !== '' ? Number(given) : Number.NaN;
    const deadline = Number.isFinite(ms) && ms >= 0 ? clock().now() + ms : undefined;
    const scope = {
      get signal(): AbortSignal {
        if (controller === undefined) {
          controller = new AbortController();
          if (gone !== undefined) controller.abort(gone);
        }
        return controller.signal;
      },
      deadline,
    };
    return { permit, run: (fn) => inRequest(scope, fn) };
  }

  /** What a shed request is answered: 503, `Retry-After` in seconds, and the reason. */
  shed(): { status: 503; headers: Record<string, string>; body: { error: string; code: 'CONCURRENCY_LIMITED'; message: string } } {
    const e = this.limit.refusal();
    return {
      status: 503,
      headers: { 'retry-after': String(Math.ceil(e.retryAfter / 1000)) },
      body: { error: 'Service Unavailable', code: 'CONCURRENCY_LIMITED', message: e.message },
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
    const admitted = door.admit(request, reply.raw);
    if (admitted === undefined) {
      const shed = door.shed();
      reply.code(shed.status).headers(shed.headers).send(shed.body);
      return;
    }
    // Released as the response is sent (an onResponse hook costs every request more).
    reply.raw.once('finish', () => admitted.permit.release(outcomeOfStatus(reply.raw.statusCode ?? reply.statusCode)));
    admitted.run(next);
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
  return (req, res, next) => {
    const admitted = door.admit(req, res);
    if (admitted === undefined) {
      const shed = door.shed();
      res.status(shed.status).set(shed.headers).json(shed.body);
      return;
    }
    res.once('finish', () => admitted.permit.release(outcomeOfStatus(res.statusCode)));
    admitted.run(next);
  };
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
    const admitted = door.admit({ method: c.req.method, url: c.req.url, headers }, raw);
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
