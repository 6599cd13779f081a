/** The shell, written once against `Backend`; entry points install a backend and re-export it. */
export { backendInfo, backendName } from './backend.js';
export { CircuitBreaker, circuitBreakerRegistry, createCircuitBreaker, withCircuitBreaker } from './breaker.js';
export type { FleetOptions, FleetStatus, RedisLike } from './fleet.js';
export type { BreakerEvents, CallEvent, CircuitBreakerMetrics, CircuitBreakerOptions, CircuitBreakerStats, FleetEvent, RejectEvent, StateChangeEvent } from './breaker.js';
export { Bulkhead, bulkheadRegistry, createBulkhead } from './bulkhead.js';
export type { BulkheadEvents, BulkheadMetrics, BulkheadOptions } from './bulkhead.js';
export { installClock, realClock, useRealClock, useVirtualClock, VirtualClock, withVirtualClock } from './clock.js';
export type { Clock, VirtualClockOptions } from './clock.js';
export { WithCircuitBreaker, WithResilience, WithRetry, WithTimeout } from './decorators.js';
export {
  BulkheadRejectedError,
  CircuitBreakerError,
  CircuitState,
  ConcurrencyLimitError,
  ErrorCodes,
  RateLimitError,
  RetryBudgetExhaustedError,
  SeawallError,
  TimeoutError,
} from './errors.js';
export type { ErrorCode, OptionErrorFields } from './errors.js';
export { createResilientAxiosAdapter } from './axios.js';
export type { AxiosLikeAdapter, AxiosLikeConfig, AxiosLikeResponse } from './axios.js';
export { createResilientFetch, HttpStatusError, resilientFetch } from './fetch.js';
export { hedge, HedgePolicy } from './hedge.js';
export { AdaptiveLimit } from './limit.js';
export type { AdaptiveLimitOptions, AdaptiveLimitStats, LimitOutcome, LimitPermit } from './limit.js';
export { seawallExpress, seawallFastify, seawallHono, ServiceDoor } from './service.js';
export type { Admitted, ServiceDoorOptions } from './service.js';
export { currentRequest } from './request-context.js';
export type { HedgedFn, HedgeOptions, HedgeStats } from './hedge.js';
export { createResilientInterceptor } from './undici.js';
export type { UndiciController, UndiciDispatch, UndiciDispatchOptions, UndiciHandler } from './undici.js';
export type { CallGuard, ResilientFetchConfig, ResilientFetchOptions } from './fetch.js';
export { RateLimiter, rateLimiter } from './ratelimit.js';
export type { RateLimiterOptions, RateLimiterStats } from './ratelimit.js';
export { ResilienceManager, ResiliencePolicies, resilienceManager } from './manager.js';
export type { HealthStatus, ResiliencePolicy } from './manager.js';
export { defaults, prometheusMetrics } from './metrics.js';
export { instrument, type InstrumentOptions } from './otel.js';
export { dataServiceCircuit, openaiCircuit, stripeCircuit } from './presets.js';
export { executeWithRetry, parseRetryAfter, RetryBudget, RetryPolicies, RetryPolicy, withBackoff } from './retry.js';
export type { RetryBudgetOptions, RetryBudgetStats, RetryOptions, RetryPredicate } from './retry.js';
export { TimeoutManager, timeoutManager, withTimeout } from './timeout.js';
export type { TimeoutOptions } from './timeout.js';
export { simulate } from './simulate.js';
export type { SimulationInterval, SimulationResult, SimulationScenario, SimulationSummary } from './simulate.js';
