/**
 * `createResilientInterceptor(options)`: an undici interceptor (undici ≥ 7, the handler API of
 * `onRequestStart` / `onResponseStart` / …) for `new Agent().compose(...)`, usable with undici's
 * `request`, `fetch` and `setGlobalDispatcher`. Each request runs through the same policy stack
 * as `createResilientFetch` — retries outermost, then per attempt a rate limiter's place, a
 * bulkhead's slot, the breaker and a timeout (until the response's headers). An attempt's
 * response is held (paused) until the core has judged it: one it retries is aborted and never
 * reaches the caller's handler; the answer is handed over whole, its body streamed as it comes.
 * A body given as a stream is sent once. seawall never imports undici.
 */
import { type CarriesEnd, ENDED, holding } from './held.js';
import { asSignal, CallSignal, whenAborted } from './cancel.js';
import { checkedConfig, type Exchange, httpStack, type Outgoing, type ResilientFetchConfig } from './fetch.js';
import { runInline } from './inline.js';

/** undici's controller of a request, as handlers receive it. */
export interface UndiciController {
  abort(reason: unknown): void;
  pause(): void;
  resume(): void;
  readonly aborted: boolean;
  readonly paused: boolean;
  readonly reason: unknown;
}

/** undici's handler contract (v7), as much of it as the interceptor relays. */
export interface UndiciHandler {
  onRequestStart?(controller: UndiciController, context: unknown): void;
  onResponseStart?(controller: UndiciController, statusCode: number, headers: Record<string, string | string[]>, statusMessage?: string): void;
  onResponseData?(controller: UndiciController, chunk: Uint8Array): void;
  onResponseEnd?(controller: UndiciController, trailers: Record<string, string | string[]>): void;
  onResponseError?(controller: UndiciController, error: unknown): void;
}

export interface UndiciDispatchOptions {
  method: string;
  origin?: string | URL;
  path?: string;
  headers?: Record<string, string | string[] | undefined> | string[] | null;
  body?: unknown;
  signal?: unknown;
}

/** `opts` with `extra` headers added (a trace's context), in the form undici was given them. */
function withHeaders(opts: UndiciDispatchOptions, extra: Record<string, string> | undefined): UndiciDispatchOptions {
  if (extra === undefined) return opts;
  const h = opts.headers;
  if (Array.isArray(h)) return { ...opts, headers: [...h, ...Object.entries(extra).flat()] };
  if (h === undefined || h === null || typeof h === 'object') return { ...opts, headers: { ...(h ?? {}), ...extra } };
  return opts;
}

/** Shared by every attempt: none has headers before its response, nor anything to let go. */
const NO_HEADERS: Record<string, string | string[]> = Object.freeze({});
const NOTHING = (): void => {};

export type UndiciDispatch = (options: UndiciDispatchOptions, handler: UndiciHandler) => boolean;

/** One attempt: what undici reports of it, held until the policies decide, then relayed. */
class Attempt implements UndiciHandler, CarriesEnd {
  [ENDED]: Promise<void> | undefined = undefined;
  controller: UndiciController | undefined;
  status = 0;
  headers: Record<string, string | string[]> = NO_HEADERS;
  statusMessage: string | undefined;
  #started = false;
  /** Paused by us until the answer is handed over. */
  #paused = false;
  #target: { handler: UndiciHandler; controller: UndiciController } | undefined;
  /** Body events that came before the answer was handed over (made for the first). */
  #held: Array<(t: { handler: UndiciHandler; controller: UndiciController }) => void> | undefined = undefined;
  /** Called once the attempt has ended (its body read, or it failed): lets go of its signals. */
  ended: () => void = NOTHING;
  /** Settles a held answer's end: done (no error), or failed mid-body. */
  #end: ((error?: { error: unknown }) => void) | undefined;
  /** Set once the attempt is let go (cut or discarded), with why. */
  #letGo: { reason: unknown } | undefined;
  /** How the body ended, when it did before the answer was held (it can all come at once). */
  #ending: { error?: { error: unknown } } | undefined;

  constructor(
    private readonly settle: (a: Attempt) => void,
    private readonly fail: (e: unknown) => void,
  ) {}

  onRequestStart(controller: UndiciController): void {
    this.controller = controller;
    // Let go before undici started it (still queued for a connection): aborted now.
    if (this.#letGo !== undefined) controller.abort(this.#letGo.reason);
  }

  onResponseStart(controller: UndiciController, statusCode: number, headers: Record<string, string | string[]>, statusMessage?: string): void {
    this.controller = controller;
    this.#started = true;
    this.status = statusCode;
    this.headers = headers;
    this.statusMessage = statusMessage;
    this.settle(this);
    // Nothing more is read until the core has judged the response, unless it was handed over (or
    // let go) just now: a pause and a resume at once still cost undici a turn of its parser.
    if (this.#target === undefined && this.#letGo === undefined) {
      this.#paused = true;
      controller.pause();
    }
  }

  onResponseData(_c: UndiciController, chunk: Uint8Array): void {
    this.#relay((t) => t.handler.onResponseData?.(t.controller, chunk));
  }

  onResponseEnd(_c: UndiciController, trailers: Record<string, string | string[]>): void {
    this.ended();
    // The verdict first: a handler reacting to the end (or the error) comes after it.
    this.#bodyEnded();
    this.#relay((t) => t.handler.onResponseEnd?.(t.controller, trailers));
  }

  onResponseError(_c: UndiciController, error: unknown): void {
    this.ended();
    this.#bodyEnded({ error });
    if (!this.#started) this.fail(error);
    else this.#relay((t) => t.handler.onResponseError?.(t.controller, error));
  }

  #bodyEnded(error?: { error: unknown }): void {
    // Let go by us (a second answer of a hedged call): closed by choice, not failed.
    const end = this.#letGo !== undefined ? undefined : error;
    if (this.#end !== undefined) this.#end(end);
    else this.#ending = { error: end };
  }

  /** This attempt as an answer whose body is watched: done when it ends, failed when it fails. */
  hold(): this {
    const ended = new Promise<void>((resolve, reject) => this.watchEnd((failure) => (failure === undefined ? resolve() : reject(failure.error))));
    return holding(this, ended);
  }

  /** `end` is told how its body ends: done (no error), or failed mid-body. */
  watchEnd(end: (failure?: { error: unknown }) => void): void {
    if (this.#ending !== undefined) end(this.#ending.error);
    else this.#end = end;
  }

  #relay(event: (t: { handler: UndiciHandler; controller: UndiciController }) => void): void {
    if (this.#target !== undefined) event(this.#target);
    else (this.#held ??= []).push(event);
  }

  /** Hands the response over to the caller's handler and lets its body flow. */
  forward(handler: UndiciHandler, controller: UndiciController): void {
    const target = { handler, controller };
    handler.onResponseStart?.(controller, this.status, this.headers, this.statusMessage);
    this.#target = target;
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) for (const event of held) event(target);
    if (this.#paused) {
      this.#paused = false;
      this.controller?.resume();
    }
  }

  /** A response no one will read (retried, or the call ended otherwise): aborted. */
  discard(): void {
    this.#abort(new Error('seawall: a response retried or given up, let go'));
  }

  /** The attempt is cut short (its timeout, the caller) before its answer was handed over. */
  cut(reason: unknown): void {
    this.#abort(reason);
    if (!this.#started) this.fail(reason);
  }

  /** Aborts the request; one undici has not started yet is aborted as it starts (else it would
   * run on, its response paused for no one, and hold its connection). */
  #abort(reason: unknown): void {
    this.#letGo ??= { reason };
    this.controller?.abort(reason);
  }
}

const UNDICI_EXCHANGE: Exchange<Attempt> = {
  status: (a) => a.status,
  headers: (a) => a.headers,
  discard: (a) => a.discard(),
  hold: (a) => a.hold(),
};

function replayable(body: unknown): boolean {
  return body == null || typeof body === 'string' || body instanceof Uint8Array || body instanceof ArrayBuffer;
}

/** The controller the caller's handler gets: it reaches whichever attempt is current, and
 * aborting it ends the call. (A class: an object literal with getters is built slowly.) */
class CallController implements UndiciController {
  readonly call = new CallSignal();
  current: Attempt | undefined;

  abort(reason: unknown): void {
    this.call.abort(reason);
    this.current?.controller?.abort(reason);
  }

  pause(): void {
    this.current?.controller?.pause();
  }

  resume(): void {
    this.current?.controller?.resume();
  }

  get aborted(): boolean {
    return this.call.aborted;
  }

  get paused(): boolean {
    return this.current?.controller?.paused ?? false;
  }

  get reason(): unknown {
    return this.call.reason;
  }
}

export function createResilientInterceptor(config: Omit<ResilientFetchConfig, 'fetch'> = {}): (dispatch: UndiciDispatch) => UndiciDispatch {
  const { circuitBreaker, bulkhead, rateLimiter, options } = checkedConfig(config);
  const stack = httpStack(UNDICI_EXCHANGE, circuitBreaker, options, { bulkhead, rateLimiter });
  return (dispatch) => (opts, handler) => {
    const controller = new CallController();
    const call = controller.call;
    handler.onRequestStart?.(controller, {});
    if (opts.signal instanceof AbortSignal) call.follow(opts.signal);
    const callerSignal = asSignal(call);
    const answered = (answer: Attempt): void => {
      call.unfollow();
      answer.forward(handler, controller);
    };
    const failed = (error: unknown): void => {
      call.unfollow();
      handler.onResponseError?.(controller, error);
    };
    const out: Outgoing<Attempt> = {
      method: opts.method,
      url: () => `${String(opts.origin ?? '').replace(/\/$/, '')}${opts.path ?? ''}`,
      replayable: replayable(opts.body),
      callerSignal,
      send: (signals, headers) =>
        new Promise<Attempt>((resolve, reject) => {
          const attempt = new Attempt(resolve, reject);
          controller.current = attempt;
          // Cut when its timeout or the caller aborts: a listener on each, taken off when the
          // attempt ends (a linked signal would cost a signal and a finalizer per attempt).
          const watched: AbortSignal[] = [callerSignal];
          for (const s of signals) {
            if (s === undefined || watched.includes(s)) continue;
            watched.push(s);
          }
          for (const s of watched) if (s.aborted) return reject(s.reason);
          const onAbort = (): void => attempt.cut(watched.find((s) => s.aborted)?.reason);
          const offs = watched.map((s) => whenAborted(s, onAbort));
          attempt.ended = () => {
            for (const off of offs) off();
          };
          try {
            dispatch(withHeaders(opts, headers), attempt);
          } catch (e) {
            attempt.ended();
            reject(e);
          }
        }),
    };
    // The first attempt inline when the policies allow it: no promise on the way to an answer.
    const inline = runInline(stack, out, {
      send(r) {
        const attempt = new Attempt(
          (a) => r.answered(a),
          (e) => r.failed(e),
        );
        controller.current = attempt;
        dispatch(opts, attempt);
      },
      cut: (reason) => controller.current?.cut(reason),
      answer(attempt, run) {
        attempt.watchEnd((failure) => run.ended(failure));
        answered(attempt);
      },
      rest: (later) => void later.then(answered, failed),
    });
    if (!inline) stack(out).then(answered, failed);
    return true;
  };
}
