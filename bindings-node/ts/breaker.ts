/**
 * The circuit breaker: a handle on a core breaker plus what only JavaScript can do (await the
 * call, time it out, emit events). Every decision — may this call go, open or close — is the
 * core's; this class reports outcomes and forwards state changes.
 *
 * Named breakers are registered (in `circuitBreakerRegistry`, health and metrics); a name given
 * to `new CircuitBreaker(name, …)` moves to the newest breaker, while `createCircuitBreaker`
 * and `circuitBreakerRegistry.getOrCreate` answer the registered one if it exists.
 */
import { listening, observed, report } from './telemetry.js';
import { backend, type Backend } from './backend.js';
import { clock, nowArg } from './clock.js';
import { Emitter } from './emitter.js';
import { endOf } from './held.js';
import { CircuitBreakerError, type CircuitState, native, STATE_BY_CODE } from './errors.js';
import { argumentError, badCall, checkOptionsArg, optionsJson } from './options.js';
import type { FleetOptions, FleetStatus, FleetSync } from './fleet.js';
import { fleetDrivers } from './fleet-install.js';
import { EVENTS_WAITING } from './ops.js';
import { runWithTimeout } from './timeout.js';

export interface CircuitBreakerOptions {
  name?: string;
  /** Consecutive failures that open the breaker (default 5). */
  failureThreshold?: number | null;
  /** Failure fraction over the window that opens it, e.g. 0.5. */
  failureRateThreshold?: number;
  /** Calls the window needs before rates are judged (default 10). */
  volumeThreshold?: number;
  windowDuration?: number;
  windowBuckets?: number;
  windowSize?: number;
  slowCallDurationThreshold?: number;
  slowCallRateThreshold?: number;
  /** Successful probes needed to close (default 1). */
  successThreshold?: number;
  /** Probes allowed at once while half-open (default 3). Alias: `halfOpenRequests`. */
  halfOpenMaxCalls?: number;
  halfOpenRequests?: number;
  /** How long it stays open, ms (default 30000). Alias: `recoveryTimeout`. */
  resetTimeout?: number;
  recoveryTimeout?: number;
  resetBackoffMultiplier?: number;
  maxResetTimeout?: number;
  /** Per-call timeout, ms. Alias: `requestTimeout`. */
  timeout?: number;
  requestTimeout?: number;
  onStateChange?: (previousState: CircuitState, currentState: CircuitState) => void;
  onOpen?: () => void;
  onClose?: () => void;
  onHalfOpen?: () => void;
  /** A returned value it answers `true` for counts as a failure (the value is still answered;
   * Resilience4j's `recordResult`, Polly's `HandleResult`). */
  isFailureResult?: (result: unknown) => boolean;
  /** Which errors count as failures (default: all). Others pass through uncounted. */
  isFailure?: (error: unknown) => boolean;
  /**
   * Act as one with the other replicas of this breaker (same name) through Redis: `{ redis, minReplicas,
   * syncInterval, staleAfter, keyPrefix }` (see `FleetOptions`). Needs a name.
   */
  fleet?: FleetOptions;
}

export interface StateChangeEvent {
  name: string;
  previousState: CircuitState;
  currentState: CircuitState;
  reason: string;
  /** Monotonic time of the change (the clock in use), ms. */
  at: number;
}

export interface CallEvent {
  name: string;
  success: boolean;
  duration: number;
  error?: unknown;
}

export interface RejectEvent {
  name: string;
  state: CircuitState;
  retryAfter: number | undefined;
}

/** Fleet mode: the breaker lost Redis and decides alone (`local`), or has it back (`shared`). */
export interface FleetEvent {
  name: string;
  mode: 'local' | 'shared';
}

export interface BreakerEvents extends Record<string, unknown> {
  stateChange: StateChangeEvent;
  open: StateChangeEvent;
  close: StateChangeEvent;
  halfOpen: StateChangeEvent;
  call: CallEvent;
  reject: RejectEvent;
  fleet: FleetEvent;
}

/** `getStats()`: the core's counters plus the field names other breakers use. */
export interface CircuitBreakerStats extends CoreStats {
  name: string;
  /** Consecutive failures (another name for `consecutiveFailures`). */
  failureCount: number;
  /** Consecutive successes (another name for `consecutiveSuccesses`). */
  successCount: number;
  /** Wall-clock (epoch ms) versions, for dashboards: `lastFailure`, `nextAttemptTime` (0 when closed). */
  lastFailure: number | null;
  nextAttemptTime: number;
  options: Record<string, unknown>;
  /** Fleet mode only: whether Redis answers, and the replicas it reported at the last sync. */
  fleet?: FleetStatus;
}

/** The metrics shape of `getMetrics()` (the full stats plus `currentState`). */
export interface CircuitBreakerMetrics extends CircuitBreakerStats {
  currentState: CircuitState;
}

/** The core's stats snapshot. Times are monotonic (the clock in use), ms, or null. */
export interface CoreStats {
  state: CircuitState;
  totalCalls: number;
  successfulCalls: number;
  failedCalls: number;
  rejectedCalls: number;
  ignoredCalls: number;
  slowCalls: number;
  stateChanges: number;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastFailureAt: number | null;
  lastSuccessAt: number | null;
  openedAt: number | null;
  nextAttemptAt: number | null;
  openCount: number;
  inFlight: number;
  halfOpenInFlight: number;
  windowCalls: number;
  windowFailures: number;
  windowSlowCalls: number;
  failureRate: number;
  slowCallRate: number;
}

interface CoreEvent {
  from: CircuitState;
  to: CircuitState;
  at: number;
  reason: string;
}

/** Frees the core breaker of a breaker object that was garbage-collected. */
const finalizer = new FinalizationRegistry<{ b: Backend; h: number }>(({ b, h }) => {
  b.breakerDrop(h);
});

const registryEvents = new Emitter<{ stateChange: StateChangeEvent }>();
/** Hands every registered breaker's counted successes to the core (before health and metrics
 * are read; unregistered breakers appear in neither). */
export function flushAllBreakers(): void {
  for (const b of registered.values()) b.flush();
}
const registered = new Map<string, CircuitBreaker>();

let anonymousCount = 0;

/** Core facts read once: which state codes admit without asking, and the permit to use then. */
let admitsTable: boolean[] | undefined;
let preapproved = Number.NaN;
function admits(): boolean[] {
  if (admitsTable === undefined) {
    const b = backend();
    admitsTable = b.unconditionalAdmits();
    preapproved = b.preapprovedPermit();
  }
  return admitsTable;
}

function parseArgs(a?: string | CircuitBreakerOptions, b?: CircuitBreakerOptions): [string | undefined, CircuitBreakerOptions] {
  checkOptionsArg(b);
  if (typeof a === 'string') return [a, b ?? {}];
  if (a === undefined || a === null) return [b?.name, b ?? {}];
  if (typeof a === 'object') return [a.name, a];
  throw Object.assign(new TypeError(`invalid option name: expected a string or an options object, got ${String(a)}`), {
    code: 'INVALID_OPTION',
    option: 'name',
    value: String(a),
  });
}

/** Marks a breaker whose core half is made on first use (module-level presets: a wasm backend
 * is installed asynchronously, after modules that merely import the shell have run). */
export const DEFERRED: unique symbol = Symbol('seawall.deferred');

export class CircuitBreaker {
  readonly name: string;
  #bb!: Backend;
  #hh = -1;
  readonly #options: CircuitBreakerOptions;
  #late: (() => CircuitBreakerOptions) | undefined;
  readonly #events = new Emitter<BreakerEvents>();
  #timeoutMs: number | undefined;
  readonly #registeredName: string | undefined;
  #admits: boolean[] = [];
  /** The last state code the core reported: every state change reaches us as an answer. */
  #stateCode = 0;
  get #state(): number {
    return this.#stateCode;
  }
  set #state(code: number) {
    this.#stateCode = code;
    this.#refresh();
  }
  /** What the common call needs to know, as two flags kept up to date on every change of the
   * state, the listeners or the options (one read each instead of five): may a call without a
   * signal run without asking the core and be handed back as it is (`#fast`), and may its
   * success just be counted (`#countOnly`)? */
  #fast = false;
  #countOnly = false;
  /** Whether calls must be timed: slow-call rules, or `call` listeners. */
  #timed = false;
  #slowRule = false;
  /** The `isFailure` predicate, read once when the breaker is made (as every option is). */
  #isFailure: ((error: unknown) => boolean) | undefined;
  /** Per state code: may successes be counted here and handed over later (the core says)? */
  #inert: boolean[] = [];
  /** Successes counted since the last hand-over. */
  #pending = 0;
  /** The settle handlers of a preapproved, untimed call: made once, so that such a call
   * allocates no closures (it has no permit or start time to capture). */
  readonly #preapprovedOk = <T>(v: T): T => {
    // A success that can change nothing but counters: count it, hand it over with the next
    // input (in order), so the common call crosses into the core not at all.
    if (this.#countOnly) this.#pending++;
    else this.#settle(preapproved, Number.NaN, false, undefined);
    return v;
  };
  readonly #preapprovedErr = (e: unknown): never => {
    this.#settle(preapproved, Number.NaN, true, e);
    throw e;
  };
  readonly #preapprovedQuiet = (e: unknown): void => {
    this.#settle(preapproved, Number.NaN, true, e);
  };
  #config: Record<string, unknown> | undefined;
  #fleet: FleetSync | undefined;
  /** The last refusal message and what it was worded for. */
  #message: string | undefined;
  #messageCode = 0;
  #messageSeconds = 0;

  constructor(name?: string, options?: CircuitBreakerOptions);
  constructor(options?: CircuitBreakerOptions);
  /** @internal */
  constructor(name: string, options: () => CircuitBreakerOptions, deferred: typeof DEFERRED);
  constructor(a?: string | CircuitBreakerOptions, b?: CircuitBreakerOptions | (() => CircuitBreakerOptions), deferred?: typeof DEFERRED) {
    const late = typeof b === 'function' ? b : undefined;
    const [name, options] = parseArgs(a, typeof b === 'function' ? {} : b);
    this.#options = options;
    this.#late = late;
    this.name = name ?? `circuit-breaker-${++anonymousCount}`;
    this.#registeredName = name;
    // A deferred breaker (a preset) joins the registry when first used: importing the package
    // registers nothing, so health and metrics list only breakers an app made or used.
    if (deferred !== DEFERRED) {
      this.#init();
      if (name !== undefined) registered.set(name, this);
    }
  }

  /** Makes the core breaker (checking the options) and reads what the hot path needs. */
  #init(): number {
    this.#bb = backend();
    if (this.#late !== undefined) {
      Object.assign(this.#options, this.#late());
      this.#late = undefined;
      if (this.#registeredName !== undefined && !registered.has(this.#registeredName)) registered.set(this.#registeredName, this);
    }
    // The name goes into the options too, so the core checks it (a non-string is an option error,
    // never a value handed to the backend as a string).
    const name = this.#registeredName;
    const json = optionsJson(name === undefined ? this.#options : { ...this.#options, name });
    this.#hh = native(() => this.#bb.breakerCreate(json, false, typeof name === 'string' ? name : null));
    const config = JSON.parse(native(() => this.#bb.breakerConfig(this.#hh))) as Record<string, unknown>;
    this.#config = config;
    this.#timeoutMs = typeof config.timeout === 'number' ? config.timeout : undefined;
    this.#slowRule = typeof config.slowCallDurationThreshold === 'number';
    this.#isFailure = this.#options.isFailure;
    this.#admits = admits();
    this.#inert = this.#bb.breakerInertSuccessStates(this.#hh);
    this.#refresh();
    finalizer.register(this, { b: this.#bb, h: this.#hh });
    if (this.#options.fleet != null) this.#joinFleet(this.#options.fleet, config.fleet as { syncInterval: number; staleAfter: number });
    return this.#hh;
  }

  /** Re-derives what the hot paths read from the state, the listeners and the options. */
  #refresh(): void {
    this.#timed = this.#slowRule || this.#events.has('call');
    const s = this.#stateCode;
    this.#countOnly = this.#inert[s] === true;
    this.#fast =
      this.#hh >= 0 &&
      this.#admits[s] === true &&
      !this.#timed &&
      this.#timeoutMs === undefined &&
      this.#isFailure === undefined &&
      this.#options.isFailureResult === undefined;
  }

  get #h(): number {
    return this.#hh >= 0 ? this.#hh : this.#init();
  }

  get #b(): Backend {
    if (this.#hh < 0) this.#init();
    return this.#bb;
  }

  /** The resolved configuration (canonical names, ms). */
  config(): Record<string, unknown> {
    const h = this.#h;
    this.#config ??= JSON.parse(native(() => this.#b.breakerConfig(h))) as Record<string, unknown>;
    return this.#config;
  }

  /**
   * Runs `fn` if the breaker allows it and reports how it went. Rejects with
   * `CircuitBreakerError` (code `CIRCUIT_OPEN`) when open. With a `timeout`, `fn` receives an
   * AbortSignal that fires when time is up (or when `signal` aborts).
   *
   * `signal` is the caller's: when it aborts, the call is given up and counts neither as a
   * success nor as a failure (the caller going away says nothing about the dependency).
   */
  execute<T>(fn: (signal?: AbortSignal) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    if (this.#fast && signal === undefined && typeof fn === 'function') {
      // The common call (see #fast): admitted without asking, its own promise handed back and
      // watched from the side (nothing here can throw).
      let result: T | PromiseLike<T>;
      try {
        result = fn(signal);
      } catch (e) {
        try {
          this.#settle(preapproved, Number.NaN, true, e);
        } catch (listenerError) {
          return Promise.reject(listenerError);
        }
        return Promise.reject(e);
      }
      if (result instanceof Promise) {
        result.then(this.#preapprovedOk, this.#preapprovedQuiet);
        return result;
      }
      return Promise.resolve(result).then(this.#preapprovedOk, this.#preapprovedErr);
    }
    return this.#executeGuarded(fn, signal);
  }

  /** Every other call: checked arguments, the core asked when the state needs it, timed when
   * a rule or a listener needs it. (Apart so that `execute` stays small enough to inline.) */
  #executeGuarded<T>(fn: (signal?: AbortSignal) => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    const judge = this.#options.isFailureResult;
    if (typeof judge === 'function') return this.#classified(fn, (v) => (judge(v) ? 'failure' : 'success'), signal);
    const bad = badCall(fn, signal);
    if (bad !== undefined) return Promise.reject(bad);
    if (this.#hh < 0) this.#init();
    if (signal?.aborted) return Promise.reject(signal.reason);
    const b = this.#bb;
    let permit: number;
    let startedAt: number;
    if (this.#admits[this.#state] === true) {
      // The core says this state admits every call: no need to ask (saves a crossing).
      permit = preapproved;
      // On the clock the call's end is recorded on (a virtual one when installed), not the host's.
      startedAt = this.#timed ? clock().now() : Number.NaN;
    } else {
      permit = this.#acquire();
      if (permit < 0) return Promise.reject(this.#rejected(permit, b.out[1]));
      startedAt = b.out[3];
    }
    let result: T | PromiseLike<T>;
    if (this.#timeoutMs !== undefined) {
      result = runWithTimeout(fn, this.#timeoutMs, signal);
    } else {
      try {
        result = fn(signal);
      } catch (e) {
        try {
          this.#settleError(permit, startedAt, e, signal);
        } catch (predicateError) {
          return Promise.reject(predicateError);
        }
        return Promise.reject(e);
      }
    }
    if (permit === preapproved && !this.#timed && signal === undefined) {
      // With no predicate nothing here can throw: watch the caller's own promise from the side
      // and hand it back as it is (one promise fewer per call).
      if (result instanceof Promise && this.#isFailure === undefined) {
        result.then(this.#preapprovedOk, this.#preapprovedQuiet);
        return result;
      }
      return Promise.resolve(result).then(this.#preapprovedOk, this.#preapprovedErr);
    }
    return Promise.resolve(result).then(
      (v) => {
        this.#settle(permit, startedAt, false, undefined);
        return v;
      },
      (e: unknown) => {
        this.#settleError(permit, startedAt, e, signal);
        throw e;
      },
    );
  }

  /**
   * @internal An integration's attempt run inline (no promise per layer): what
   * `executeClassified` does before calling `fn`, for a breaker with no timeout of its own (its
   * `config().timeout`). Sets `into`'s permit and start; throws the refusal.
   */
  beginAttempt(into: { permit: number; startedAt: number }): void {
    if (this.#hh < 0) this.#init();
    const permit = this.#acquire();
    if (permit < 0) throw this.#rejected(permit, this.#bb.out[1]);
    into.permit = permit;
    into.startedAt = this.#bb.out[3];
  }

  /** @internal The verdict of an attempt begun inline: its result judged (as `executeClassified`
   * counts it), or `error` (a failure, unless `signal` was aborted: then neither way). */
  endAttempt(permit: number, startedAt: number, kind: 'success' | 'failure' | 'ignore', error?: { error: unknown; signal: AbortSignal | undefined }): void {
    if (error !== undefined) this.#settleError(permit, startedAt, error.error, error.signal);
    else this.#settle(permit, startedAt, kind === 'failure', undefined, kind === 'ignore', true);
  }

  /** A call failed: a failure, unless the caller had aborted it (then it counts neither way). */
  #settleError(permit: number, startedAt: number, error: unknown, signal: AbortSignal | undefined): void {
    this.#settle(permit, startedAt, true, error, signal?.aborted === true);
  }

  /** Hands counted successes to the core; every other input to the core comes after this. */
  flush(): void {
    if (this.#pending === 0) return;
    const n = this.#pending;
    this.#pending = 0;
    const r = this.#b.breakerRecordSuccesses(this.#h, n, nowArg());
    if (r >= 0) this.#state = r >= EVENTS_WAITING ? r - EVENTS_WAITING : r;
    if (r >= EVENTS_WAITING) this.#drain();
  }

  /** Asks the core; answers the permit or the negative rejection code. */
  #acquire(): number {
    this.flush();
    const b = this.#b;
    const permit = b.breakerAcquire(this.#h, nowArg());
    if (b.out[2] !== 0) this.#drain();
    if (permit < 0) this.#state = -permit - 1;
    else if (permit > 0 && permit !== preapproved) this.#state = 2; // a probe: HALF_OPEN
    return permit;
  }

  /**
   * Like `execute`, but `classify` decides how a result counts: `'success'`, `'failure'` (the
   * result is still returned) or `'ignore'` (not counted, e.g. an HTTP 404).
   */
  executeClassified<T>(
    fn: (signal?: AbortSignal) => T | PromiseLike<T>,
    classify: (result: T) => 'success' | 'failure' | 'ignore',
    signal?: AbortSignal,
  ): Promise<T> {
    return this.#classified(fn, classify, signal);
  }

  #classified<T>(
    fn: (signal?: AbortSignal) => T | PromiseLike<T>,
    classify: (result: T) => 'success' | 'failure' | 'ignore',
    signal?: AbortSignal,
  ): Promise<T> {
    const bad = badCall(fn, signal);
    if (bad !== undefined) return Promise.reject(bad);
    if (signal?.aborted) return Promise.reject(signal.reason);
    const b = this.#b;
    const permit = this.#acquire();
    if (permit < 0) return Promise.reject(this.#rejected(permit, b.out[1]));
    const startedAt = b.out[3];
    const run = () => (this.#timeoutMs !== undefined ? runWithTimeout(fn, this.#timeoutMs, signal) : fn(signal));
    // Its own promise when it returns one (resolving a new promise with it would cost two turns).
    let result: T | PromiseLike<T>;
    try {
      result = run();
    } catch (e) {
      result = Promise.reject(e);
    }
    return Promise.resolve(result).then(
      (v) => {
        let kind: 'success' | 'failure' | 'ignore';
        try {
          kind = classify(v);
        } catch (e) {
          // As a throwing isFailure: neither way, and the permit comes back.
          this.#settle(permit, startedAt, false, undefined, true);
          throw e;
        }
        // A value still working (a streaming body): its verdict waits for the end; a body that
        // fails mid-way is a failure (unless the caller aborted it).
        const end = kind === 'failure' ? undefined : endOf(v);
        if (end === undefined) this.#settle(permit, startedAt, kind === 'failure', undefined, kind === 'ignore', true);
        else
          end
            .then(
              () => this.#settle(permit, startedAt, false, undefined, kind === 'ignore', true),
              (e: unknown) => this.#settleError(permit, startedAt, e, signal),
            )
            // The permit is back by then; an `isFailure` that throws on the body's error has no
            // caller left to tell (the reader of the body sees that error itself).
            .catch(() => {});
        return v;
      },
      (e: unknown) => {
        this.#settleError(permit, startedAt, e, signal);
        throw e;
      },
    );
  }

  #settle(permit: number, startedAt: number, failed: boolean, error: unknown, ignore = false, judged = false): void {
    this.flush();
    const b = this.#b;
    let outcome = failed ? 1 : 0;
    let predicateError: { error: unknown } | undefined;
    // `isFailure` judges errors; a result already judged (`executeClassified`) is not put to it.
    if (!ignore && failed && !judged && this.#isFailure !== undefined) {
      // A predicate that throws cannot classify the call: it counts neither way (its permit,
      // maybe a half-open probe's, still comes back) and its error goes to the caller.
      try {
        if (!this.#isFailure.call(this.#options, error)) outcome = 2;
      } catch (e) {
        outcome = 2;
        predicateError = { error: e };
      }
    }
    if (ignore) outcome = 2;
    // -1 (permit not outstanding) cannot happen: each permit is settled exactly once here.
    const r = b.breakerRecord(this.#h, permit, outcome, nowArg(), startedAt);
    if (r >= 0) this.#state = r >= EVENTS_WAITING ? r - EVENTS_WAITING : r;
    // The call's own event first, then the state change it caused.
    if (this.#timed && this.#events.has('call')) {
      const e: CallEvent = { name: this.name, success: !failed, duration: b.out[3] - startedAt };
      if (failed) e.error = error;
      this.#events.emit('call', e);
    }
    if (r >= EVENTS_WAITING) this.#drain();
    if (predicateError !== undefined) throw predicateError.error;
  }

  #rejected(code: number, retryAfterMs: number): CircuitBreakerError {
    const state = STATE_BY_CODE[-code - 1] ?? 'OPEN';
    const retryAfter = Number.isNaN(retryAfterMs) ? undefined : retryAfterMs;
    // The core words the refusal by state and whole seconds left: ask it once per such pair.
    const seconds = Number.isNaN(retryAfterMs) ? -1 : Math.ceil(retryAfterMs / 1000);
    if (this.#message === undefined || this.#messageCode !== code || this.#messageSeconds !== seconds) {
      this.#message = this.#b.rejectionMessage(this.#registeredName ?? '', code, retryAfterMs);
      this.#messageCode = code;
      this.#messageSeconds = seconds;
    }
    if (this.#events.has('reject')) this.#events.emit('reject', { name: this.name, state, retryAfter });
    if (listening('call.rejected')) report('call.rejected', { policy: this.name, by: 'breaker', code: 'CIRCUIT_OPEN' });
    if (CircuitBreakerError.captureStackTraces) return new CircuitBreakerError(this.#message, retryAfter, state, this.name);
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return new CircuitBreakerError(this.#message, retryAfter, state, this.name);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  /** Emits the state changes the core reports. */
  #drain(): void {
    const events = JSON.parse(this.#b.breakerEvents(this.#h)) as CoreEvent[];
    const o = this.#options;
    for (const e of events) {
      this.#state = STATE_BY_CODE.indexOf(e.to);
      const ev: StateChangeEvent = { name: this.name, previousState: e.from, currentState: e.to, reason: e.reason, at: e.at };
      o.onStateChange?.(e.from, e.to);
      if (e.to === 'OPEN') o.onOpen?.();
      if (e.to === 'CLOSED') o.onClose?.();
      if (e.to === 'HALF_OPEN') o.onHalfOpen?.();
      this.#events.emit('stateChange', ev);
      if (listening('breaker.state_changed')) report('breaker.state_changed', { policy: this.name, from: e.from, to: e.to, reason: e.reason });
      if (e.to === 'OPEN' || e.to === 'FORCED_OPEN') this.#events.emit('open', ev);
      if (e.to === 'CLOSED') this.#events.emit('close', ev);
      if (e.to === 'HALF_OPEN') this.#events.emit('halfOpen', ev);
      if (this.#registeredName !== undefined && registered.get(this.#registeredName) === this) registryEvents.emit('stateChange', ev);
    }
  }

  on<K extends keyof BreakerEvents>(event: K, listener: (e: BreakerEvents[K]) => void): () => void {
    const off = this.#events.on(event, listener);
    this.#refresh();
    void off;
    return () => this.off(event, listener);
  }

  off<K extends keyof BreakerEvents>(event: K, listener: (e: BreakerEvents[K]) => void): void {
    this.#events.off(event, listener);
    this.#refresh();
  }

  /** The state now: `CLOSED`, `OPEN`, `HALF_OPEN`, `FORCED_OPEN` or `DISABLED`. */
  getState(): CircuitState {
    this.flush();
    const code = native(() => this.#b.breakerState(this.#h, nowArg()));
    this.#drain();
    this.#state = code;
    return STATE_BY_CODE[code] ?? 'OPEN';
  }

  get state(): CircuitState {
    return this.getState();
  }

  /** Milliseconds until an open breaker lets a probe through (0 when not open). */
  getRemainingTimeout(): number {
    this.flush();
    const ms = this.#b.breakerRetryAfter(this.#h, nowArg());
    return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
  }

  getStats(): CircuitBreakerStats {
    this.flush();
    const s = JSON.parse(native(() => this.#b.breakerStats(this.#h, nowArg()))) as CoreStats;
    this.#drain();
    const now = clock().now();
    const wall = (t: number | null) => (t === null ? null : Date.now() - (now - t));
    return {
      name: this.name,
      ...s,
      failureCount: s.consecutiveFailures,
      successCount: s.consecutiveSuccesses,
      lastFailure: wall(s.lastFailureAt),
      nextAttemptTime: wall(s.nextAttemptAt) ?? 0,
      options: this.config(),
      ...(this.#fleet === undefined ? {} : { fleet: { ...this.#fleet.status } }),
    };
  }

  getMetrics(): CircuitBreakerMetrics {
    const s = this.getStats();
    return { ...s, currentState: s.state };
  }

  #joinFleet(options: FleetOptions, config: { syncInterval: number; staleAfter: number }): void {
    // Replicas find each other by name: an anonymous breaker has nobody to share with.
    if (this.#registeredName === undefined) throw argumentError({ name: undefined });
    const h = this.#hh;
    const b = this.#bb;
    // The sync driver's inputs may change the breaker's state (the fleet opened or closed it, the
    // lease made it half-open, Redis lost or back): each is followed by what the breaker learns.
    const status = (): FleetStatus => JSON.parse(b.breakerSyncStatus(h)) as FleetStatus;
    const learning = (input: () => void): void => {
      this.flush();
      const before = status().mode;
      native(input);
      this.#state = b.breakerCurrentState(h);
      this.#drain();
      const after = status().mode;
      if (after !== before) this.#events.emit('fleet', { name: this.name, mode: after });
    };
    const sync = fleetDrivers().breaker(this.#registeredName, config, options, {
      join: (prefix, replica) => native(() => b.breakerSyncJoin(h, prefix, replica)),
      next: () => {
        this.flush();
        return native(() => b.breakerSyncNext(h, nowArg()));
      },
      reply: (json) => learning(() => b.breakerSyncReply(h, json, nowArg())),
      failed: () => learning(() => b.breakerSyncFailed(h, nowArg())),
      wanted: () => b.breakerSyncWanted(h),
      status,
    });
    this.#fleet = sync;
    this.#events.on('stateChange', () => sync.onStateChange());
  }

  /** Fleet mode: syncs with the other replicas now (the background sync does it every `syncInterval`). */
  syncFleet(): Promise<void> {
    return this.#fleet?.syncNow() ?? Promise.resolve();
  }

  /** Fleet mode: stops syncing with the other replicas (this breaker then decides alone). */
  leaveFleet(): void {
    if (this.#fleet === undefined) return;
    this.#fleet.stop();
    this.#bb.breakerSyncLeave(this.#hh);
    this.#command('fleetAlone');
  }

  #command(command: string): void {
    this.flush();
    this.#state = native(() => this.#b.breakerCommand(this.#h, command, nowArg()));
    this.#drain();
  }

  /** Closes the breaker and clears its counts (admin action, tests). */
  reset(): void {
    this.#command('reset');
  }

  /** Opens it now for the normal open period. */
  open(): void {
    this.#command('open');
  }

  /** Holds it open until `reset()` (Resilience4j forced-open, cockatiel isolate). */
  forceOpen(): void {
    this.#command('forceOpen');
  }

  /** `forceOpen`, answering a function that resets the breaker. */
  isolate(): () => void {
    this.#command('isolate');
    return () => this.reset();
  }

  /** Lets every call through and stops tripping until `reset()`. */
  disable(): void {
    this.#command('disable');
  }

  /** Saved state (metrics that persist): pass it to `restore` after a restart. */
  toJSON(): Record<string, unknown> {
    this.flush();
    return JSON.parse(native(() => this.#b.breakerSnapshot(this.#h, nowArg()))) as Record<string, unknown>;
  }

  restore(snapshot: Record<string, unknown> | string): void {
    const text = typeof snapshot === 'string' ? snapshot : JSON.stringify(snapshot);
    this.flush();
    native(() => this.#b.breakerRestore(this.#h, text, nowArg()));
    this.#drain();
    this.getState();
  }
}

observed(CircuitBreaker.prototype, 'execute', 'breaker', (b) => b.name);
// An answer its classification counts as a failure (an HTTP 503) ends the call as one.
observed(CircuitBreaker.prototype, 'executeClassified', 'breaker', (b) => b.name, (_b, args) => (value) => (args[1] as (v: unknown) => string)(value) === 'failure');

export function createCircuitBreaker(name: string, options: CircuitBreakerOptions = {}): CircuitBreaker {
  return circuitBreakerRegistry.getOrCreate(name, options);
}

/** Registered breakers by name, with health, stats and state-change events. */
export const circuitBreakerRegistry = {
  get(name: string): CircuitBreaker | undefined {
    return registered.get(name);
  },

  /** The breaker `name`, created (from options or a factory of options) if absent. */
  getOrCreate(name: string, options: CircuitBreakerOptions | (() => CircuitBreakerOptions) = {}): CircuitBreaker {
    const existing = registered.get(name);
    if (existing !== undefined) return existing;
    const o = typeof options === 'function' ? options() : options;
    return new CircuitBreaker(name, o);
  },

  getAll(): CircuitBreaker[] {
    return [...registered.values()];
  },

  getAllStats(): CircuitBreakerStats[] {
    return [...registered.values()].map((b) => b.getStats());
  },

  names(): string[] {
    return [...registered.keys()];
  },

  /** `{ total, healthy, unhealthy, byState }`: CLOSED and DISABLED count as healthy. */
  getHealthStatus(): { total: number; healthy: number; unhealthy: number; byState: Record<CircuitState, number> } {
    flushAllBreakers();
    const h = JSON.parse(backend().breakerHealth(nowArg())) as { total: number; healthy: number; unhealthy: number; byState: Record<CircuitState, number> };
    for (const b of registered.values()) b.getState();
    return h;
  },

  resetAll(): void {
    for (const b of registered.values()) b.reset();
  },

  /** Forgets every breaker (between tests); breakers already held keep working, unregistered. */
  clear(): void {
    backend().clearRegistry();
    registered.clear();
  },

  on(event: 'stateChange', listener: (e: StateChangeEvent) => void): () => void {
    return registryEvents.on(event, listener);
  },

  off(event: 'stateChange', listener: (e: StateChangeEvent) => void): void {
    registryEvents.off(event, listener);
  },
};

/**
 * Runs `fn` through the registered breaker `name`, creating it with `options` on first use.
 */
export function withCircuitBreaker<T>(name: string, fn: (signal?: AbortSignal) => T | PromiseLike<T>, options?: CircuitBreakerOptions): Promise<T> {
  let breaker: CircuitBreaker;
  try {
    breaker = circuitBreakerRegistry.getOrCreate(name, options);
  } catch (e) {
    return Promise.reject(e);
  }
  return breaker.execute(fn);
}
