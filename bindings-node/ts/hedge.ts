/**
 * Hedged calls: when an attempt is slow, start another and take the first acceptable answer
 * (Polly v8's hedging, gRPC's hedging policy, Finagle's backup requests). The core decides
 * when each attempt starts, whether the extra-load budget and the throttle allow it, which
 * attempt won and when the call has failed (core/src/hedge.rs); this shell starts the attempts,
 * wakes up at the core's deadlines, and cancels the losers — and waits for them to end before
 * the call returns, so that nothing of a call runs after it. A call whose primary answers in
 * time never asks the core: it is counted in a batch the core receives before anything else is
 * asked of the policy.
 */
import { DeadlineList, type Listed } from './deadline-list.js';
import { backend, type Backend } from './backend.js';
import { takesArgument, whenAborted } from './cancel.js';
import { clock, nowArg, type Clock } from './clock.js';
import { HEDGE_BATCH } from './ops.js';
import { fromNative, native } from './errors.js';
import { PolicyCache } from './compiled.js';
import { requestSignal } from './request-context.js';
import { badCall, checkOptionsArg, optionsJson } from './options.js';
import { classifyOutcome, errorFacts, errorIds, type OutcomeFacts } from './retry.js';
import { listening, observed, report } from './telemetry.js';

export interface HedgeOptions {
  name?: string;
  /** Attempts at most, the first included (default 2, at most 10). Alias: `attempts`. */
  maxAttempts?: number;
  /** Wait before the next attempt while none answered, ms (default 2000; 0: all at once). */
  delay?: number;
  /** `latency` (default): an attempt every `delay`; `fallback`: the next only after one failed. */
  mode?: 'latency' | 'fallback';
  /** The delay from this percentile (0–100, e.g. 95) of recent primary latencies; `delay` until known. */
  percentile?: number;
  /** The recent latencies' window, ms (default 30 000). */
  window?: number;
  /** The extra-load budget (`ratio` per call, `minRetriesPerSecond`, `maxTokens`), or false. */
  budget?: { ratio?: number; minRetriesPerSecond?: number; maxTokens?: number } | false;
  /** gRPC's throttle (`maxTokens` 10, `tokenRatio` 0.1), or false. */
  throttle?: { maxTokens?: number; tokenRatio?: number } | false;
  /** Errors after which another attempt may help: ids (codes, names, statuses) or a predicate. */
  retryableErrors?: Array<string | number> | ((error: unknown, attempt: number) => boolean);
  retryOn?: Array<string | number> | ((error: unknown, attempt: number) => boolean);
  /** A value it answers true for is a failed attempt (another may answer better). */
  retryOnResult?: (value: unknown) => boolean;
  /** Called as attempt `attempt` (1, 2, …) starts besides the first. */
  onHedge?: (attempt: number) => void;
  signal?: AbortSignal;
  /** HTTP integrations: hedge methods that are not idempotent too. */
  hedgeNonIdempotent?: boolean;
}

export interface HedgeStats {
  name: string | undefined;
  calls: number;
  /** Attempts started besides the first. */
  hedges: number;
  /** Calls a later attempt answered. */
  hedgeWins: number;
  budgetRefused: number;
  throttleRefused: number;
  /** The delay in force, ms (the percentile's once known). */
  delayMs: number;
  budgetTokens: number | null;
  throttleTokens: number | null;
}

/** The function hedged: called with the attempt number (0 first) and that attempt's signal,
 * which aborts when another attempt answered first or the caller gave up. */
export type HedgedFn<T> = (attempt: number, signal: AbortSignal) => T | PromiseLike<T>;

// Outcome codes the core takes (core/src/hedge.rs `AttemptOutcome`).
const SUCCESS = 0;
const FAILURE = 1;
const FATAL = 2;
const CANCELLED = 3;
const ATTEMPT_OUTCOMES = { success: SUCCESS, failure: FAILURE, fatal: FATAL, cancelled: CANCELLED } as const;

const NONE_ANSWERED = new Float64Array(0);

const finalizer = new FinalizationRegistry<{ b: Backend; h: number }>(({ b, h }) => b.hedgePolicyDrop(h));

function lost(): DOMException {
  return new DOMException('another hedged attempt answered first', 'AbortError');
}

/** One attempt of a call. Its signal is made only for a function that takes one (`controller`:
 * the one it was given already). */
class Attempt {
  readonly controller: AbortController | undefined;
  outcome = -1;
  value: unknown;
  error: unknown;
  constructor(
    readonly k: number,
    takesSignal: boolean,
    controller?: AbortController,
  ) {
    this.controller = controller ?? (takesSignal ? new AbortController() : undefined);
  }
}

/** A wake-up at a deadline, until cancelled: a hedged call is its own. */
interface Wake extends Listed {
  fire(): void;
  /** A wake-up on a clock other than the queue's has a timer of its own. */
  cancel: (() => void) | undefined;
}

/**
 * A policy's wake-ups on one timer: a call whose primary answers in time costs a link and an
 * unlink, not a timer of its own (a timer set and cleared costs more than the rest of such a
 * call). Deadlines are kept in order in a list (a fixed delay adds them at its end; a
 * percentile's, nearly). The timer does not keep the process alive: an attempt still running
 * does, if anything. A deadline cancelled leaves the timer armed; it finds nothing due.
 */
class Wakeups {
  readonly #list = new DeadlineList<Wake>();
  #cancelTimer: (() => void) | undefined;
  #armedAt = Number.POSITIVE_INFINITY;
  #clock: Clock | undefined;

  /** Adds `w` (at `w.at`, on clock `c`, the one in force). */
  add(w: Wake, c: Clock = clock()): void {
    w.live = true;
    if (this.#clock !== c) {
      if (this.#list.head !== undefined) {
        w.cancel = c.setTimer(w.at - c.now(), () => this.#fire(w), true);
        return;
      }
      this.#cancelTimer?.();
      this.#cancelTimer = undefined;
      this.#armedAt = Number.POSITIVE_INFINITY;
      this.#clock = c;
    }
    this.#list.insert(w);
    if (w.at < this.#armedAt) this.#arm(c);
  }

  cancel(w: Wake): void {
    if (!w.live) return;
    w.live = false;
    const own = w.cancel;
    if (own !== undefined) {
      w.cancel = undefined;
      return own();
    }
    this.#list.unlink(w);
  }

  #fire(w: Wake): void {
    if (!w.live) return;
    w.live = false;
    w.cancel = undefined;
    w.fire();
  }

  #arm(c: Clock): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    const next = this.#list.head;
    this.#armedAt = next === undefined ? Number.POSITIVE_INFINITY : next.at;
    if (next !== undefined) this.#cancelTimer = c.setTimer(next.at - c.now(), () => this.#run(c), true);
  }

  #run(c: Clock): void {
    this.#cancelTimer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const due = this.#list.takeDue(c.now());
    if (this.#clock === c) this.#arm(c);
    for (const w of due) w.fire();
  }
}

/**
 * A hedging policy: options checked once by the core, then `execute` as often as needed. Its
 * budget, throttle and recent latencies are shared by every call made through it.
 */
export class HedgePolicy {
  readonly options: HedgeOptions;
  readonly #b: Backend;
  readonly #h: number;
  readonly #hasList: boolean;
  readonly #wakeups = new Wakeups();
  // Calls begin without a machine in the core: one whose primary answers in time never needs
  // one, and is handed over in a batch (`#sync`) before anything else is asked of the policy.
  /** Calls begun since the last sync. */
  #begun = 0;
  /** Of those, answered before their deadlines: a count, or (`#timed`, for a percentile) their
   * `(started, ended)` times (`#count` numbers), all of `#answeredDelay`. */
  #inTime = 0;
  readonly #answered = new Float64Array(2 * HEDGE_BATCH);
  #count = 0;
  #answeredDelay = 0;
  /** The core's delay for calls begun before `#until`; after `#wake` ms a call needs its machine. */
  #delay = 0;
  #until = 0;
  #wake = 0;
  #timed = false;

  constructor(options: HedgeOptions = {}) {
    checkOptionsArg(options);
    options ??= {};
    this.#b = backend();
    this.options = options;
    this.#h = native(() => this.#b.hedgePolicyCreate(optionsJson(options), false, nowArg()));
    finalizer.register(this, { b: this.#b, h: this.#h });
    this.#hasList = Array.isArray(options.retryableErrors ?? options.retryOn);
    this.#refresh(nowArg());
  }

  /** Hands the calls begun and answered since the last sync over. */
  #sync(now: number | undefined): void {
    this.#b.hedgeSync(this.#h, this.#begun, this.#inTime, this.#answeredDelay, this.#count === 0 ? NONE_ANSWERED : this.#answered.subarray(0, this.#count), now);
    this.#begun = 0;
    this.#inTime = 0;
    this.#count = 0;
  }

  /** The delay for calls begun from `now`, as the core reads it for a call beginning then. */
  #refresh(now: number | undefined): void {
    this.flush(now);
    const [delay, until, wake, timed] = this.#b.hedgeDelay(this.#h, now) as [number, number, number, number];
    this.#delay = delay;
    this.#until = until;
    this.#wake = wake;
    this.#timed = timed === 1;
  }

  /** @internal Before the core is asked anything about this policy: what it has not seen yet. */
  flush(now: number | undefined): void {
    if (this.#begun > 0 || this.#inTime > 0 || this.#count > 0) this.#sync(now);
  }

  /** @internal A call begun at `started` without a machine answered before its deadline. */
  answered(started: number, delay: number): void {
    if (!this.#timed) {
      if (++this.#inTime === HEDGE_BATCH) this.#sync(nowArg());
      return;
    }
    const ended = clock().now();
    if (delay !== this.#answeredDelay && this.#count > 0) this.#sync(ended);
    this.#answeredDelay = delay;
    const a = this.#answered;
    a[this.#count++] = started;
    a[this.#count++] = ended;
    if (this.#count === a.length) this.#sync(ended);
  }

  get name(): string | undefined {
    return this.options.name;
  }

  /**
   * Runs `fn` as hedged attempts: the first acceptable answer is the call's; every other attempt
   * is aborted and has ended before this settles. When every attempt failed, rejects with the
   * primary's error (`hedgedErrors`: the others'); an error no attempt can help with (one the
   * retry classification would not retry, such as a 400) rejects at once with that error.
   */
  execute<T>(fn: HedgedFn<T>, signal: AbortSignal | undefined = requestSignal(this.options.signal)): Promise<T> {
    const bad = badCall(fn, signal);
    if (bad !== undefined) return Promise.reject(bad);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return this.run(fn, this.options, signal);
  }

  /** The outcome code of a failed attempt: the core's classification (the retries' rules, a
   * policy's refusal a failed attempt), with this policy's filters. `request`: what an HTTP
   * integration knows of the request. */
  outcomeOf(error: unknown, attempt: number, o: HedgeOptions = this.options, request?: OutcomeFacts): number {
    const predicate = o.retryableErrors ?? o.retryOn;
    const facts: OutcomeFacts = { ...errorFacts(error), ...request };
    if (typeof predicate === 'function' || this.#hasList) {
      facts.filter = (typeof predicate !== 'function' || predicate(error, attempt)) && (!this.#hasList || this.#b.hedgeIsRetryable(this.#h, errorIds(error)));
    }
    return ATTEMPT_OUTCOMES[classifyOutcome(facts).attempt];
  }

  /**
   * @internal `execute` with another call's hooks: `o` must compile to this policy (equal
   * options, as the inline cache ensures); its callbacks and name are used for this call.
   * `request`: what an HTTP integration knows of the request, for the classification.
   */
  run<T>(fn: HedgedFn<T>, o: HedgeOptions, signal: AbortSignal | undefined, request?: OutcomeFacts): Promise<T> {
    const b = this.#b;
    const c = clock();
    const now = c.now();
    if (now >= this.#until) native(() => this.#refresh(now));
    if (this.#wake === 0 || signal !== undefined || o.retryOnResult !== undefined) {
      // Every attempt at once, a call that can be given up, or one whose values are judged: its
      // machine from the start (each of the last two costs more than asking the core).
      this.flush(now);
      const call = native(() => b.hedgeBegin(this.#h, now));
      return new HedgedRun<T>(this, b, this.#wakeups, call, b.out[1] as number, fn, o, signal, request).promise;
    }
    if (++this.#begun === HEDGE_BATCH) native(() => this.#sync(now));
    // A function that cannot take its signal (see `takesArgument`) is given none, and none is made.
    const controller = takesArgument(fn, 1) ? new AbortController() : undefined;
    return new Begun<T>(this, this.#wakeups, now, this.#delay, fn, o, request, controller).start(now + this.#wake, c);
  }

  /** @internal The machine of `begun`'s call, its primary running. */
  adopt<T>(begun: Begun<T>, now: number): HedgedRun<T> {
    this.flush(now);
    const call = native(() => this.#b.hedgeStartBegun(this.#h, begun.startedAt, begun.delay));
    return new HedgedRun<T>(this, this.#b, this.#wakeups, call, undefined, begun.fn, begun.o, undefined, begun.request, begun.controller);
  }

  getStats(): HedgeStats {
    return {
      name: this.options.name,
      ...(JSON.parse(
        native(() => {
          const now = nowArg();
          this.flush(now);
          const stats = this.#b.hedgeStats(this.#h, now);
          // Reading the stats may have recomputed a percentile's delay: calls begun next use it.
          this.#refresh(now);
          return stats;
        }),
      ) as Omit<HedgeStats, 'name'>),
    };
  }
}

/**
 * A call begun without a machine in the core: its primary runs, and its deadline waits in the
 * policy's wake-ups. Answered in time, it is counted in the policy's next batch; at its
 * deadline, or when its primary fails, the call gets its machine (`HedgedRun`), which takes the
 * running primary over.
 */
class Begun<T> implements Wake {
  // Declared, then set once in the constructor: a class field would be defined, then set again.
  declare readonly policy: HedgePolicy;
  declare readonly wakeups: Wakeups;
  declare readonly startedAt: number;
  declare readonly delay: number;
  declare readonly fn: HedgedFn<T>;
  declare readonly o: HedgeOptions;
  declare readonly request: OutcomeFacts | undefined;
  /** The primary's, for a function that takes its signal. */
  declare readonly controller: AbortController | undefined;
  declare at: number;
  declare live: boolean;
  declare prev: Wake | undefined;
  declare next: Wake | undefined;
  declare cancel: (() => void) | undefined;
  /** Its machine, once it has one. */
  declare run: HedgedRun<T> | undefined;

  constructor(
    policy: HedgePolicy,
    wakeups: Wakeups,
    startedAt: number,
    delay: number,
    fn: HedgedFn<T>,
    o: HedgeOptions,
    request: OutcomeFacts | undefined,
    controller: AbortController | undefined,
  ) {
    this.controller = controller;
    this.policy = policy;
    this.wakeups = wakeups;
    this.startedAt = startedAt;
    this.delay = delay;
    this.fn = fn;
    this.o = o;
    this.request = request;
    this.at = Number.NaN;
    this.live = false;
    this.prev = undefined;
    this.next = undefined;
    this.cancel = undefined;
    this.run = undefined;
  }

  /** Starts the primary; its deadline at `at` (+∞: none) on clock `c`. Answers the call's promise. */
  start(at: number, c: Clock): Promise<T> {
    let p: Promise<T>;
    try {
      p = Promise.resolve(this.fn(0, this.controller?.signal as AbortSignal));
    } catch (e) {
      p = Promise.reject(e);
    }
    // After the primary started, as a call with its machine arms its deadline: what the
    // primary itself sets up at the same time comes first alike.
    if (at !== Number.POSITIVE_INFINITY) {
      this.at = at;
      this.wakeups.add(this, c);
    }
    return p.then(
      (v) => {
        const run = this.run;
        if (run !== undefined) return run.settled(0, true, v) as T;
        if (this.live) this.wakeups.cancel(this);
        this.policy.answered(this.startedAt, this.delay);
        return v;
      },
      (e: unknown) => this.#machine().settled(0, false, e) as T,
    );
  }

  /** The deadline came with the primary still running: the machine says what next. */
  fire(): void {
    try {
      this.#machine().fire();
    } catch {
      // The core refused the machine (it cannot while this call holds its policy); the
      // primary's end asks again, and its caller gets the error.
    }
  }

  #machine(): HedgedRun<T> {
    if (this.run === undefined) {
      if (this.live) this.wakeups.cancel(this);
      this.run = this.policy.adopt(this, clock().now());
    }
    return this.run;
  }
}

/**
 * One hedged call as it runs: it does what the core's steps say (start an attempt, wait for a
 * deadline or an attempt, end) and reports each attempt's end. Driven by the attempts' settling,
 * not a loop. The call settles when its primary has ended and, after the call is decided, every
 * other attempt too: a call whose primary answers in time settles in the primary's own reaction,
 * with no promise of its own.
 */
class HedgedRun<T> implements Wake {
  readonly promise: Promise<T>;
  readonly #attempts: Attempt[] = [];
  // Its wake-up at the core's next deadline (`live` while armed).
  at = Number.NaN;
  live = false;
  prev: Wake | undefined = undefined;
  next: Wake | undefined = undefined;
  cancel: (() => void) | undefined = undefined;
  /** Decided: won, failed or given up by the caller (`#final` holds the answer). */
  #over = false;
  #final: { ok: boolean; value: unknown } | undefined;
  /** Attempts not yet settled. */
  #running = 0;
  /** Made only when the primary ends before the call's answer is ready. */
  #deferred: { resolve: (v: T) => void; reject: (e: unknown) => void } | undefined;
  readonly #takesSignal: boolean;
  /** Takes the call's listener off the caller's signal. */
  readonly #offAbort: (() => void) | undefined;

  /** `first`: the core's first step; `undefined` for a call whose primary already runs (a
   * `Begun` call taken over, with the primary's `controller`: it reports the primary's end
   * through `settled`). */
  constructor(
    readonly policy: HedgePolicy,
    readonly b: Backend,
    readonly wakeups: Wakeups,
    readonly call: number,
    first: number | undefined,
    readonly fn: HedgedFn<T>,
    readonly o: HedgeOptions,
    readonly signal: AbortSignal | undefined,
    readonly request: OutcomeFacts | undefined,
    primary?: AbortController,
  ) {
    // A function that cannot take its signal (see `takesArgument`) is given none, and none is made.
    this.#takesSignal = takesArgument(fn, 1);
    if (signal !== undefined) this.#offAbort = whenAborted(signal, () => this.#abort());
    if (first === undefined) {
      this.#attempts.push(new Attempt(0, false, primary));
      this.#running = 1;
      this.promise = undefined as unknown as Promise<T>;
      return;
    }
    this.promise = this.#launch(0) as Promise<T>;
    this.#next(first);
  }

  /** Starts attempt `k`; answers its reaction (the primary's is the call's promise). */
  #launch(k: number): Promise<unknown> {
    const a = new Attempt(k, this.#takesSignal);
    this.#attempts.push(a);
    this.#running++;
    const o = this.o;
    if (k > 0) {
      if (listening('hedge.launched')) report('hedge.launched', { policy: o.name, attempt: k });
      o.onHedge?.(k);
    }
    let p: Promise<T>;
    try {
      p = Promise.resolve(this.fn(k, a.controller?.signal as AbortSignal));
    } catch (e) {
      p = Promise.reject(e);
    }
    return p.then(
      (v) => this.settled(k, true, v),
      (e: unknown) => this.settled(k, false, e),
    );
  }

  /** Attempt `k` answered `value` (`ok`) or failed with it: its outcome, then what next. The
   * primary's answers the call (its value, its error, or a promise of the call's answer). */
  settled(k: number, ok: boolean, value: unknown): unknown {
    const a = this.#attempts[k] as Attempt;
    const o = this.o;
    if (ok) {
      a.value = value;
      const rejects = o.retryOnResult;
      try {
        a.outcome = typeof rejects === 'function' && rejects(value) ? FAILURE : SUCCESS;
      } catch (e) {
        // The hook threw: the call fails with its error.
        this.fail(e);
        a.outcome = CANCELLED;
      }
    } else {
      a.error = value;
      try {
        a.outcome = a.controller?.signal.aborted === true ? CANCELLED : this.policy.outcomeOf(value, k, o, this.request);
      } catch (hookError) {
        this.fail(hookError);
        a.outcome = CANCELLED;
      }
    }
    return this.#ended(a);
  }

  /** Attempt `a` settled: the core says what next; the primary's reaction answers the call. */
  #ended(a: Attempt): unknown {
    this.#running--;
    if (!this.#over) {
      try {
        const now = nowArg();
        this.policy.flush(now);
        this.#advance(this.b.hedgeSettle(this.call, a.k, a.outcome, now));
      } catch (e) {
        this.fail(fromNative(e));
      }
    }
    if (this.#over && this.#running === 0) this.#deliver();
    if (a.k !== 0) return undefined;
    const f = this.#final;
    if (f !== undefined && this.#running === 0) {
      if (f.ok) return f.value;
      throw f.value;
    }
    return new Promise<T>((resolve, reject) => {
      this.#deferred = { resolve, reject };
    });
  }

  /** Does what the core's step says, until it says to wait. */
  #advance(step: number): void {
    const b = this.b;
    while (step < 0 && step > -11) {
      void this.#launch(-1 - step);
      const now = nowArg();
      this.policy.flush(now);
      step = b.hedgeStep(this.call, now);
    }
    if (step <= -11) return this.#end(step);
    if (step !== (this.live ? this.at : Number.POSITIVE_INFINITY)) {
      if (this.live) this.wakeups.cancel(this);
      if (Number.isFinite(step)) {
        this.at = step;
        this.wakeups.add(this);
      }
    }
  }

  /** Its deadline came. */
  fire(): void {
    if (this.#over) return;
    try {
      const now = nowArg();
      this.policy.flush(now);
      this.#advance(this.b.hedgeStep(this.call, now));
    } catch (e) {
      this.fail(fromNative(e));
    }
  }

  /** Goes on from the core's next step; a throw (a hook's, or the core's error, raised by the
   * cold path after a hot one answered NaN) ends the call with that error, after the attempts
   * still running. */
  #next(step: number): void {
    try {
      this.#advance(step);
    } catch (e) {
      this.fail(fromNative(e));
    }
  }

  /** Ends the call with error `e` (a hook's, the core's, the caller's), after the attempts still running. */
  fail(e: unknown): void {
    if (this.#over) return;
    this.b.hedgeEnd(this.call);
    this.#decide(undefined, { ok: false, value: e });
  }

  /** The caller gave up: every attempt is cancelled; the call rejects once all have ended. */
  #abort(): void {
    this.fail((this.signal as AbortSignal).reason);
  }

  /** Won or failed (the core freed the call). */
  #end(step: number): void {
    const failed = step <= -21;
    const done = this.#attempts[failed ? -21 - step : -11 - step] as Attempt;
    const ok = !failed || done.error === undefined;
    this.#decide(done, { ok, value: ok ? done.value : withOthers(done, this.#attempts) });
  }

  /** The call's answer is known: the other attempts still running are cancelled. */
  #decide(keep: Attempt | undefined, answer: { ok: boolean; value: unknown }): void {
    this.#over = true;
    this.#final = answer;
    if (this.live) this.wakeups.cancel(this);
    this.#offAbort?.();
    for (const a of this.#attempts) if (a !== keep && a.outcome < 0) a.controller?.abort(lost());
  }

  /** Every attempt has ended after the call was decided: a waiting caller gets the answer. */
  #deliver(): void {
    const d = this.#deferred;
    const f = this.#final;
    if (d === undefined || f === undefined) return;
    this.#deferred = undefined;
    if (f.ok) d.resolve(f.value as T);
    else d.reject(f.value);
  }
}

// Instrumented, a call is observed under the name its options give (`execute` goes through `run`).
observed(HedgePolicy.prototype, 'run', 'hedge', (_p, args) => (args[1] as HedgeOptions | undefined)?.name);

/** The failed attempt's error, with the other attempts' errors attached as `hedgedErrors`. */
function withOthers(done: Attempt, attempts: Attempt[]): unknown {
  const e = done.error;
  if (e !== null && typeof e === 'object' && Object.isExtensible(e)) {
    const others = attempts.filter((a) => a !== done && a.error !== undefined).map((a) => a.error);
    Object.defineProperty(e, 'hedgedErrors', { value: others, configurable: true, writable: true });
  }
  return e;
}

const inline = new PolicyCache((o) => new HedgePolicy(o as HedgeOptions));

/** The policy for a `hedge` option: the one given, or the compiled one for its options. */
export function hedgePolicyFor(hedge: HedgeOptions | HedgePolicy): HedgePolicy {
  return hedge instanceof HedgePolicy ? hedge : inline.get(hedge);
}

/** The HTTP integrations' `hedge` option, as the entries whose module hedges install it. */
export const HEDGING = {
  own: (hedge: HedgeOptions | HedgePolicy): HedgePolicy => (hedge instanceof HedgePolicy ? hedge : new HedgePolicy(hedge)),
  policyFor: hedgePolicyFor,
};

/**
 * `hedge((attempt, signal) => fetch(url, { signal }), { delay: 50 })`: runs `fn`, starting
 * another attempt each `delay` while none has answered; the first acceptable answer wins.
 * Inline options equal in content share one policy (its budget, throttle and latencies): give
 * each backend its own `name`, or keep a `HedgePolicy`.
 */
export function hedge<T>(fn: HedgedFn<T>, options?: HedgeOptions | HedgePolicy): Promise<T> {
  try {
    if (options instanceof HedgePolicy) return options.execute(fn);
    checkOptionsArg(options);
    const o = options ?? {};
    const bad = badCall(fn, o.signal);
    if (bad !== undefined) throw bad;
    const signal = requestSignal(o.signal);
    if (signal?.aborted) return Promise.reject(signal.reason);
    return inline.get(o).run(fn, o, signal);
  } catch (e) {
    return Promise.reject(e);
  }
}
