/**
 * An HTTP integration's first attempt run inline: the bulkhead's slot, the breaker's permit and
 * the deadline taken and given back as the transport reports the attempt (undici's handler events,
 * a `fetch`'s promise), without a promise per layer, and a response judged the answer at its
 * headers handed over at once. Anything else (a retry, a refusal) goes on through the stack
 * (`httpStack`) as a promise. Most requests end at their first attempt: on the wire the layers'
 * promises cost ~10× what they cost in a loop (every step between two socket reads runs cold).
 * Apart from `fetch.ts` so that a page guarding `fetch` bundles none of it.
 */
import { signalFor, whenAborted } from './cancel.js';
import { clock } from './clock.js';
import { endOf } from './held.js';
import { countOf, type HttpStack, HttpStatusError, type InlineFetch, type InlineParts, type Outgoing, raisedBy } from './fetch.js';
import type { OutcomeFacts } from './retry.js';
import { observer } from './telemetry.js';
import { deadline } from './timeout.js';

/** Runs `out`'s first attempt inline through `t` when `stack`'s policies allow it (see
 * `HttpStack.inline`); false: run the request with `stack(out)` instead. */
export function runInline<R>(stack: HttpStack<R>, out: Outgoing<R>, t: InlineTransport<R>): boolean {
  const p = stack.inline;
  if (p === undefined || observer.sink !== undefined || out.callerSignal?.aborted === true) return false;
  new InlineRun<R>(out, t, stack, p).start(p.attemptTimeout());
  return true;
}

/**
 * `fetch` as an inline transport: `send` makes the attempt's request under a signal of its own,
 * which its deadline and the caller's abort abort (the caller's signal linked to it by `send`,
 * as for every attempt, so that it also reaches the answer's body). The answer is the response,
 * held (its slot and verdict) until its body is read.
 */
export const fetchInline: InlineFetch = (stack, out, send) =>
  new Promise<Response>((resolve) => {
    let attempt: AbortController | undefined;
    const inline = runInline(stack, out, {
      send(run) {
        const c = (attempt = new AbortController());
        send(c.signal).then(
          (r) => run.answered(r),
          // Cut by us: the reason we aborted with, whatever the `fetch` made of it.
          (e: unknown) => run.failed(c.signal.aborted ? c.signal.reason : e),
        );
      },
      cut: (reason) => attempt?.abort(reason),
      answer(response, run) {
        attempt = undefined;
        const hold = run.p.hold;
        if (hold === undefined) return resolve(response);
        const held = hold(response);
        endsTo(held, run);
        resolve(held);
      },
      rest: resolve,
    });
    if (!inline) resolve(stack(out));
  });

/** `run` is told when `held`'s body ends. Apart: a closure made where the answer's promise is
 * settled would keep that promise, and so the answer, alive until then (a response dropped unread
 * must be collected to give its slot back). */
function endsTo<R>(held: R, run: InlineRun<R>): void {
  endOf(held)?.then(
    () => run.ended(),
    (error: unknown) => run.ended({ error }),
  );
}

/** A transport that reports an attempt's events as they come. */
export interface InlineTransport<R> {
  /** Sends the attempt now; its events go to `run` (`answered`, `failed`, then `ended`). */
  send(run: InlineRun<R>): void;
  /** Cuts the attempt (its deadline, or the caller): the transport aborts it and reports it. */
  cut(reason: unknown): void;
  /** The call's answer, judged at its headers: hand it over now (`run.ended` follows its body). */
  answer(response: R, run: InlineRun<R>): void;
  /** The first attempt did not answer: the rest of the call (its retries) settles this. */
  rest(answered: Promise<R>): void;
}

/**
 * One request's first attempt run inline: the steps `once` takes through the bulkhead, the breaker
 * and the timeout, each policy asked directly, with the same verdicts (`Bulkhead.admit`,
 * `CircuitBreaker.beginAttempt` / `endAttempt`, `deadline`).
 */
export class InlineRun<R> {
  /** The breaker's permit and the attempt's start (set by `beginAttempt`). */
  permit = -1;
  startedAt = Number.NaN;
  #slot = -1;
  #cancelDeadline: (() => void) | undefined;
  /** The attempt's headers or failure are known (the rest is its body's end). */
  #judged = false;
  /** The answer's count, settled with the breaker when its body ends. */
  #count: 'success' | 'failure' | 'ignore' = 'success';
  /** The slot and the permit are back. */
  #settled = false;
  /** Takes the attempt's listener off the caller's signal. */
  #offAbort: (() => void) | undefined;
  /** Its transport, let go once the answer is handed over: what waits for the answer's body to end
   * must not keep the answer itself alive (a response dropped unread is collected). */
  #t: InlineTransport<R> | undefined;
  /** What the core's classification needs to know of the request besides its response. */
  private readonly request: OutcomeFacts;

  constructor(
    readonly out: Outgoing<R>,
    t: InlineTransport<R>,
    private readonly stack: HttpStack<R>,
    readonly p: InlineParts<R>,
  ) {
    this.#t = t;
    this.request = { method: out.method, retryNonIdempotent: p.retryNonIdempotent };
  }

  start(attemptTimeout: number | undefined): void {
    const { slots } = this.p;
    if (slots === undefined) return this.#slotted(-1, attemptTimeout);
    let slot: number | Promise<number>;
    try {
      slot = slots.admit(signalFor(slots, this.out.callerSignal));
    } catch (e) {
      return this.#refused(e);
    }
    if (typeof slot === 'number') this.#slotted(slot, attemptTimeout);
    else
      slot.then(
        (permit) => this.#slotted(permit, attemptTimeout),
        (e: unknown) => this.#refused(e),
      );
  }

  #slotted(slot: number, attemptTimeout: number | undefined): void {
    this.#slot = slot;
    const caller = this.out.callerSignal;
    if (caller?.aborted === true) return this.#refused(caller.reason);
    if (this.p.circuit !== undefined) {
      try {
        this.p.circuit.beginAttempt(this);
      } catch (e) {
        return this.#refused(e);
      }
    }
    if (attemptTimeout !== undefined) {
      const c = clock();
      this.#cancelDeadline = deadline(c, attemptTimeout, (e) => this.#t?.cut(e));
    }
    if (caller !== undefined) this.#offAbort = whenAborted(caller, () => this.#t?.cut(caller.reason));
    try {
      this.#t!.send(this);
    } catch (e) {
      this.failed(e);
    }
  }

  /** Refused before it was sent (a slot, the breaker, or the caller gone): no verdict to give,
   * a slot taken given back. */
  #refused(error: unknown): void {
    this.#judged = true;
    this.#settled = true;
    if (this.#slot >= 0) this.p.slots!.releaseSlot(this.#slot);
    this.#t!.rest(this.stack(this.out, Promise.reject(error)));
  }

  /** Its response's headers came: the answer (handed over), or a failure the retries take. */
  answered(response: R): void {
    if (this.#judged) return;
    this.#judged = true;
    this.#cancelDeadline?.();
    const { x } = this.p;
    let count: 'success' | 'failure' | 'ignore';
    let raised: boolean;
    try {
      count = countOf(x.status(response));
      raised = raisedBy(x, response, this.request, count);
    } catch (e) {
      // Not judged (the core could not be asked): a failure, as a throwing classifier is.
      this.#judged = false;
      return this.failed(e);
    }
    // The caller's abort reaches an answer's body through the transport from here on; a response
    // the retries take is theirs.
    this.#offAbort?.();
    if (!raised) {
      // Its slot and the breaker's verdict are held until its body ends (`ended`).
      this.#count = count;
      this.p.budget?.recordSuccess();
      const t = this.#t!;
      this.#t = undefined;
      t.answer(response, this);
      return;
    }
    const error = new HttpStatusError(response, x.status(response), x.headers(response));
    this.#settle(count, undefined);
    this.#t!.rest(this.stack(this.out, Promise.reject(error)));
  }

  /** It failed before its headers (a network error, cut by its deadline or the caller). */
  failed(error: unknown): void {
    if (this.#judged) return;
    this.#judged = true;
    this.#cancelDeadline?.();
    this.#offAbort?.();
    let outcome = error;
    try {
      this.#settle('failure', { error, signal: this.out.callerSignal });
    } catch (predicateError) {
      outcome = predicateError;
    }
    this.#t!.rest(this.stack(this.out, Promise.reject(outcome)));
  }

  /** The answer's body ended: read to its end, or failed (`failure`). */
  ended(failure?: { error: unknown }): void {
    try {
      this.#settle(this.#count, failure === undefined ? undefined : { error: failure.error, signal: this.out.callerSignal });
    } catch {
      // The permit is back; an `isFailure` that throws on the body's error has no caller left to
      // tell (the reader of the body sees that error itself).
    }
  }

  #settle(count: 'success' | 'failure' | 'ignore', error: { error: unknown; signal: AbortSignal | undefined } | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    try {
      this.p.circuit?.endAttempt(this.permit, this.startedAt, count, error);
    } finally {
      if (this.#slot >= 0) this.p.slots!.releaseSlot(this.#slot);
    }
  }
}
