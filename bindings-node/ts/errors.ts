/**
 * Seawall's errors. Codes are the core's, identical in every language. Option errors are the
 * built-in `TypeError` (wrong type, unknown option) and `RangeError` (out of range), carrying
 * `code`, `option` and `value`.
 */
export const ErrorCodes = {
  CIRCUIT_OPEN: 'CIRCUIT_OPEN',
  BULKHEAD_QUEUE_FULL: 'BULKHEAD_QUEUE_FULL',
  BULKHEAD_QUEUE_TIMEOUT: 'BULKHEAD_QUEUE_TIMEOUT',
  TIMEOUT: 'TIMEOUT',
  RETRY_BUDGET_EXHAUSTED: 'RETRY_BUDGET_EXHAUSTED',
  RETRIES_EXHAUSTED: 'RETRIES_EXHAUSTED',
  INVALID_OPTION: 'INVALID_OPTION',
  INVALID_PERMIT: 'INVALID_PERMIT',
  INVALID_SNAPSHOT: 'INVALID_SNAPSHOT',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  /** A part the browser's lean module leaves out (a `TypeError`): import from `seawall/full`. */
  NOT_IN_MODULE: 'NOT_IN_MODULE',
  /** An adaptive concurrency limit shed the call. */
  CONCURRENCY_LIMITED: 'CONCURRENCY_LIMITED',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** States a breaker can be in (in capitals, as callers compare them). */
export const CircuitState = {
  CLOSED: 'CLOSED',
  OPEN: 'OPEN',
  HALF_OPEN: 'HALF_OPEN',
  FORCED_OPEN: 'FORCED_OPEN',
  DISABLED: 'DISABLED',
} as const;
export type CircuitState = (typeof CircuitState)[keyof typeof CircuitState];

/** The state names in the order of the core's state codes. */
export const STATE_BY_CODE: readonly CircuitState[] = ['CLOSED', 'OPEN', 'HALF_OPEN', 'FORCED_OPEN', 'DISABLED'];

/** Base class of the errors Seawall raises itself (not the option errors, which are built-ins). */
export class SeawallError extends Error {
  readonly code: ErrorCode;
  constructor(message: string, code: ErrorCode) {
    super(message);
    this.name = 'SeawallError';
    this.code = code;
  }
}

/**
 * A breaker refused the call. `retryAfter` is the time left in ms (undefined when unknown).
 *
 * The breaker's own rejections carry no stack trace by default: a refusal is fail-fast control
 * flow, and capturing a stack costs more than everything else in it (V8: ~2.5 µs of ~3 µs).
 * Set `CircuitBreakerError.captureStackTraces = true` to have them (e.g. while debugging).
 */
export class CircuitBreakerError extends SeawallError {
  /** Whether the breaker's rejections capture a stack trace (default false). */
  static captureStackTraces = false;
  readonly state: CircuitState;
  readonly retryAfter: number | undefined;
  readonly breakerName: string;
  constructor(message = 'Circuit breaker is open', retryAfter?: number, state: CircuitState = 'OPEN', breakerName = '') {
    super(message, ErrorCodes.CIRCUIT_OPEN);
    this.name = 'CircuitBreakerError';
    this.state = state;
    this.retryAfter = retryAfter;
    this.breakerName = breakerName;
  }
  /** The time left, in ms (another name for `retryAfter`). */
  get remainingTimeout(): number | undefined {
    return this.retryAfter;
  }
}

/** A bulkhead refused the call, or a queued call waited too long. */
export class BulkheadRejectedError extends SeawallError {
  readonly bulkheadName: string;
  constructor(message: string, code: 'BULKHEAD_QUEUE_FULL' | 'BULKHEAD_QUEUE_TIMEOUT', bulkheadName = '') {
    super(message, code);
    this.name = 'BulkheadRejectedError';
    this.bulkheadName = bulkheadName;
  }
}

/** A rate limiter refused the call. `retryAfter` is the time until a place is free, in ms. */
export class RateLimitError extends SeawallError {
  readonly retryAfter: number;
  readonly limiterName: string;
  constructor(message: string, retryAfter: number, limiterName = '') {
    super(message, ErrorCodes.RATE_LIMITED);
    this.name = 'RateLimitError';
    this.retryAfter = retryAfter;
    this.limiterName = limiterName;
  }
}

/** An adaptive concurrency limit shed the call. `retryAfter`: when to come back, in ms. */
export class ConcurrencyLimitError extends SeawallError {
  readonly retryAfter: number;
  readonly limitName: string;
  constructor(message: string, retryAfter: number, limitName = '') {
    super(message, ErrorCodes.CONCURRENCY_LIMITED);
    this.name = 'ConcurrencyLimitError';
    this.retryAfter = retryAfter;
    this.limitName = limitName;
  }
}

/** A call ran past its timeout. `duration` is how long it ran, in ms. */
export class TimeoutError extends SeawallError {
  readonly duration: number;
  constructor(duration: number, message = `Operation timed out after ${Math.round(duration)}ms`) {
    super(message, ErrorCodes.TIMEOUT);
    this.name = 'TimeoutError';
    this.duration = duration;
  }
}

/** A retry was refused because the shared retry budget is empty (carries the last failure). */
export class RetryBudgetExhaustedError extends SeawallError {
  override readonly cause: unknown;
  readonly attempts: number;
  constructor(attempts: number, cause: unknown) {
    super(`Retry budget exhausted after ${attempts} attempt${attempts === 1 ? '' : 's'}`, ErrorCodes.RETRY_BUDGET_EXHAUSTED);
    this.name = 'RetryBudgetExhaustedError';
    this.attempts = attempts;
    this.cause = cause;
  }
}

/** Option errors carry these fields on top of the built-in TypeError / RangeError. */
export interface OptionErrorFields {
  code: 'INVALID_OPTION';
  option: string | null;
  value: string | null;
}

interface NativeErrorPayload {
  code: ErrorCode;
  kind: 'type' | 'range' | 'rejected' | 'internal';
  option: string | null;
  value: string | null;
  message: string;
}

const NATIVE_PREFIX = 'SEAWALL:';

/** Turns an error thrown by a backend into the error users see; other errors pass through. */
export function fromNative(e: unknown): unknown {
  const message = e instanceof Error ? e.message : typeof e === 'string' ? e : '';
  if (!message.startsWith(NATIVE_PREFIX)) return e;
  const p = JSON.parse(message.slice(NATIVE_PREFIX.length)) as NativeErrorPayload;
  if (p.kind === 'type' || p.kind === 'range') {
    const err = p.kind === 'type' ? new TypeError(p.message) : new RangeError(p.message);
    return Object.assign(err, { code: p.code, option: p.option, value: p.value });
  }
  return new SeawallError(p.message, p.code);
}

/** Calls a backend function, converting what it throws. */
export function native<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fromNative(e);
  }
}
