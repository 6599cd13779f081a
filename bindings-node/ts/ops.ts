// Generated from bindings-shared/src/boundary.rs by its tests (SEAWALL_BLESS=1 cargo test -p seawall-bindings-shared); do not edit.
import type { Now } from './backend.js';

/** Added to a breaker's state answer when state changes wait: the state is the answer less this, when the answer is at least this. */
export const EVENTS_WAITING = 8;

/** A hedging policy's calls begun without a machine are handed over (`hedgeSync`) at the latest when this many have answered. */
export const HEDGE_BATCH = 256;

/** The cold operations every backend implements, one to one with `seawall_core::Engine`. */
export interface EngineOps {
  breakerCreate(optionsJson: string, seconds: boolean, name?: string | null): number;
  breakerGetOrCreate(name: string, optionsJson: string, seconds: boolean): number[];
  /** The handle of the registered breaker `name`. */
  breakerLookup(name: string): number;
  breakerName(handle: number): string | null | undefined;
  breakerDrop(handle: number): boolean;
  breakerEvents(handle: number): string;
  /** Per state code: may the shell count successes itself in that state? */
  breakerInertSuccessStates(handle: number): boolean[];
  breakerRecordSuccesses(handle: number, count: number, now: Now): number;
  breakerState(handle: number, now: Now): number;
  breakerCurrentState(handle: number): number;
  breakerCommand(handle: number, command: string, now: Now): number;
  /** The fleet's sync: this replica's report. */
  breakerFleetReport(handle: number, now: Now): string;
  /** The fleet's sync: the replicas' reports in, the tally out. */
  breakerFleetSync(handle: number, reportsJson: string, now: Now): string;
  /** The fleet's sync: the probe lease to take (its ms), or NaN. */
  breakerProbeLease(handle: number, now: Now): number;
  /**
   * A fleet breaker's sync with its store (core/src/fleet_sync.rs): starts it, as the replica
   * `replica`, on the keys under `prefix`.
   */
  breakerSyncJoin(handle: number, prefix: string, replica: string): void;
  /** Stops it (the breaker then decides alone); whether one ran. */
  breakerSyncLeave(handle: number): boolean;
  /**
   * The next command of the round (JSON: `{"eval", "keys", "args"}` or `{"set", "value", "px"}`),
   * or "" when the round is over.
   */
  breakerSyncNext(handle: number, now: Now): string;
  /** Redis's reply to the last command, as JSON. */
  breakerSyncReply(handle: number, replyJson: string, now: Now): void;
  /** The round failed (an error, or no answer by its deadline). */
  breakerSyncFailed(handle: number, now: Now): void;
  /** Whether the breaker has news for the fleet: a round should run now. */
  breakerSyncWanted(handle: number): boolean;
  /** `{"mode": "shared"|"local", "replicas", "fresh", "syncs", "failedSyncs"}`. */
  breakerSyncStatus(handle: number): string;
  breakerRetryAfter(handle: number, now: Now): number;
  breakerNextTimeout(handle: number): number;
  rejectionMessage(name: string, code: number, retryAfterMs: number): string;
  breakerStats(handle: number, now: Now): string;
  breakerConfig(handle: number): string;
  breakerSnapshot(handle: number, now: Now): string;
  breakerRestore(handle: number, snapshotJson: string, now: Now): void;
  bulkheadCreate(optionsJson: string, seconds: boolean, name?: string | null): number;
  bulkheadGetOrCreate(name: string, optionsJson: string, seconds: boolean): number[];
  /** The handle of the registered bulkhead `name`. */
  bulkheadLookup(name: string): number;
  bulkheadDrop(handle: number): boolean;
  bulkheadCancel(handle: number, ticket: number): boolean;
  bulkheadNextTimeout(handle: number): number;
  bulkheadExpire(handle: number, now: Now): number[];
  bulkheadMetrics(handle: number): string;
  retryPolicyCreate(optionsJson: string, seconds: boolean, seed: number): number;
  retryPolicyDrop(handle: number): boolean;
  retryPolicyInfo(handle: number): string;
  retryIsRetryable(handle: number, ids: string[]): boolean;
  retryStart(policy: number, now: Now): number;
  /** A failed attempt: the next step, see the engine's encoding. */
  retryOnFailure(call: number, now: Now, failureClass: number, retryAfterMs: number, budget: number): number[];
  retryEnd(call: number): boolean;
  backoffCreate(optionsJson: string, seconds: boolean, seed: number): number;
  backoffNext(handle: number, retry: number): number;
  backoffRestart(handle: number): void;
  backoffDrop(handle: number): boolean;
  budgetCreate(optionsJson: string, seconds: boolean, now: Now): number;
  budgetDrop(handle: number): boolean;
  budgetRecordSuccess(handle: number, now: Now): void;
  budgetTryWithdraw(handle: number, now: Now): boolean;
  budgetTokens(handle: number, now: Now): number;
  budgetStats(handle: number, now: Now): string;
  budgetFleetReport(handle: number, now: Now): string;
  budgetFleetSync(handle: number, granted: number, reportsJson: string, now: Now): void;
  budgetFleetAlone(handle: number, now: Now): void;
  hedgePolicyCreate(optionsJson: string, seconds: boolean, now: Now): number;
  hedgePolicyDrop(handle: number): boolean;
  /** Whether an error with these identifiers may be followed by another attempt. */
  hedgeIsRetryable(handle: number, ids: string[]): boolean;
  /** A call: its attempt 0 is running; the call's handle. */
  hedgeStart(policy: number, now: Now): number;
  /** The call's next step, see the engine's encoding. */
  hedgeStep(call: number, now: Now): number;
  /**
   * Calls begun without a machine, handed over: `begun` since the last sync; of those answered,
   * `in_time` before their deadlines (times unread) and `answered` the others' `(started,
   * ended)` pairs, each having waited `delay`.
   */
  hedgeSync(policy: number, begun: number, inTime: number, delay: number, answered: Float64Array, now: Now): void;
  /**
   * For calls begun without a machine from now: `[delay, until, wake, timed]` (`timed`: 1
   * when answered calls' times are needed).
   */
  hedgeDelay(policy: number, now: Now): number[];
  /** The machine of a call begun at `started`, waiting `delay`: its primary is running. */
  hedgeStartBegun(policy: number, started: number, delay: number): number;
  /** Attempt `attempt` settled (`outcome`: 0 success, 1 failure, 2 fatal, 3 cancelled): the next step. */
  hedgeSettle(call: number, attempt: number, outcome: number, now: Now): number;
  /** The caller gave up on the call: frees it. */
  hedgeEnd(call: number): boolean;
  hedgeStats(handle: number, now: Now): string;
  adaptiveCreate(optionsJson: string, seconds: boolean, seed: number): number;
  adaptiveDrop(handle: number): boolean;
  /** The index of a partition by name, or -1. */
  adaptivePartition(handle: number, name: string): number;
  /** A call admitted (its permit, ≥ 0) or refused (-1); `partition` an index or -1. */
  adaptiveAcquire(handle: number, partition: number, now: Now): number;
  /** A call ended (`outcome`: 0 success, 1 dropped, 2 ignored). */
  adaptiveRelease(handle: number, permit: number, outcome: number, now: Now): void;
  adaptiveStats(handle: number): string;
  /** When a shed caller should come back, ms. */
  adaptiveRetryAfter(handle: number, now: Now): number;
  adaptiveMessage(name: string, retryAfterMs: number): string;
  /** What a response's status means for an adaptive limit: 0 success, 1 dropped, 2 ignored. */
  limitOutcome(status: number): number;
  /**
   * What a service answers a request it sheds, besides its 503: `[Retry-After, JSON body]`;
   * `name`: the limit that shed it (none: a queue that was full or held it too long).
   */
  shedAnswer(name: string | null, retryAfterMs: number): string[];
  rateLimitCreate(optionsJson: string, seconds: boolean): number;
  rateLimitDrop(handle: number): boolean;
  /**
   * `[wait ms (0: now; negative: refused, minus the ms until a place is free), ticket to give
   * a reserved place back (NaN: none)]`.
   */
  rateLimitAcquire(handle: number, now: Now): number[];
  rateLimitCancel(handle: number, ticket: number): boolean;
  rateLimitStats(handle: number, now: Now): string;
  /** Fleet mode: this replica's `{demand, want}`. */
  rateLimitFleetReport(handle: number, now: Now): string;
  /** Fleet mode: the store's grant and the others' reports. */
  rateLimitFleetSync(handle: number, granted: number, reportsJson: string, now: Now): void;
  /** Fleet mode: the store is lost. */
  rateLimitFleetAlone(handle: number): void;
  /**
   * A rate limiter's or retry budget's (`kind`: `rateLimit`, `budget`) quota sync with its
   * store (core/src/fleet_sync.rs): starts it; `store` is `{"prefix", "name", "replica"}`.
   */
  quotaSyncJoin(kind: string, handle: number, store: string): void;
  /** Stops it: the policy then runs on an equal part, as when the store is lost. */
  quotaSyncLeave(kind: string, handle: number, now: Now): void;
  /** The round's command (JSON: `{"eval": "quota", "keys", "args"}`), or "" when it is over. */
  quotaSyncNext(kind: string, handle: number, now: Now): string;
  /** Redis's reply to the round's command, as JSON. */
  quotaSyncReply(kind: string, handle: number, replyJson: string, now: Now): void;
  /** The round failed (an error, or no answer by its deadline). */
  quotaSyncFailed(kind: string, handle: number, now: Now): void;
  /** `{"syncs", "failedSyncs"}`. */
  quotaSyncStatus(kind: string, handle: number): string;
  rateLimitMessage(name: string, retryAfterMs: number): string;
  /** A fleet's Redis keys and scripts: `{keys: {reports, marks, lease, quota}, scripts: {sync, mark, release, quota}}`. */
  fleetStore(prefix: string, name: string): string;
  health(now: Now): string;
  breakerHealth(now: Now): string;
  breakerNames(): string[];
  resetAll(now: Now): void;
  clearRegistry(): void;
  recordRetryAttempt(name: string): void;
  recordTimeout(name: string): void;
  prometheus(): string;
  /** The registry's gauges for the observed OpenTelemetry instruments: `[[family, name, label, value]]`. */
  gaugeSamples(): string;
  errorCodes(): string[];
  /** What the shells report as Seawall decides (core/src/telemetry.rs), as JSON. */
  telemetryEvents(): string;
  /** The OpenTelemetry instruments those reports feed (core/src/telemetry.rs), as JSON. */
  telemetryInstruments(): string;
  stateNames(): string[];
  giveUpReasons(): string[];
  giveUpCodes(): string[];
  defaultsJson(): string;
  preapprovedPermit(): number;
  unconditionalAdmits(): boolean[];
  presetPolicy(name: string, python: boolean): string | null | undefined;
  presetCircuit(name: string, python: boolean): string | null | undefined;
  presetRetry(kind: string, a: number, b: number, c: number, python: boolean): string | null | undefined;
  validate(kind: string, optionsJson: string, seconds: boolean): void;
  deadline(now: number, timeoutMs: number, outer: number): number;
  /**
   * What an attempt's outcome means for retries and breakers (core/src/outcome.rs): the
   * outcome as JSON in, `{"decision", "retryAfterMs", "count", "attempt"}` out.
   */
  classifyOutcome(outcomeJson: string, nowEpochMs: number): string;
  /** Whether a request of `method` may be hedged (`forced`: any method). */
  hedgeable(method: string, forced: boolean): boolean;
  /** How a breaker counts an HTTP response of `status`: 0 success, 1 failure, 2 ignored. */
  countStatus(status: number): number;
  /** A Retry-After header as ms from `now_epoch_ms`; NaN when unreadable. */
  retryAfter(value: string, nowEpochMs: number): number;
  /**
   * A header giving milliseconds (`retry-after-ms`, a client's `x-request-timeout`); NaN
   * when unreadable.
   */
  headerMs(value: string): number;
  rngFloats(seed: number, count: number): number[];
  /**
   * The simulator over a scenario (JSON text); answers JSON text. Absent from the browser
   * (wasm) build, which leaves the simulator out for size; Python's releases the GIL.
   */
  simulate?(scenarioJson: string): string;
}

/**
 * The wasm adapter's layout of each operation reached through the module's `call` export, in
 * row order: its parameters, then `:` and its answer (see backend-wasm.ts).
 */
export const CALLS = {
  breakerCreate: 'sbo:n',
  breakerGetOrCreate: 'ssb:f',
  breakerLookup: 's:n',
  breakerName: 'n:o',
  breakerDrop: 'n:b',
  breakerEvents: 'n:s',
  breakerInertSuccessStates: 'n:B',
  breakerRecordSuccesses: 'nnt:n',
  breakerState: 'nt:n',
  breakerCurrentState: 'n:n',
  breakerCommand: 'nst:n',
  breakerFleetReport: 'nt:s',
  breakerFleetSync: 'nst:s',
  breakerProbeLease: 'nt:n',
  breakerSyncJoin: 'nss:v',
  breakerSyncLeave: 'n:b',
  breakerSyncNext: 'nt:s',
  breakerSyncReply: 'nst:v',
  breakerSyncFailed: 'nt:v',
  breakerSyncWanted: 'n:b',
  breakerSyncStatus: 'n:s',
  breakerRetryAfter: 'nt:n',
  breakerNextTimeout: 'n:n',
  rejectionMessage: 'snn:s',
  breakerStats: 'nt:s',
  breakerConfig: 'n:s',
  breakerSnapshot: 'nt:s',
  breakerRestore: 'nst:v',
  bulkheadCreate: 'sbo:n',
  bulkheadGetOrCreate: 'ssb:f',
  bulkheadLookup: 's:n',
  bulkheadDrop: 'n:b',
  bulkheadCancel: 'nn:b',
  bulkheadNextTimeout: 'n:n',
  bulkheadExpire: 'nt:f',
  bulkheadMetrics: 'n:s',
  retryPolicyCreate: 'sbn:n',
  retryPolicyDrop: 'n:b',
  retryPolicyInfo: 'n:s',
  retryIsRetryable: 'nj:b',
  retryStart: 'nt:n',
  retryOnFailure: 'ntnnn:f',
  backoffCreate: 'sbn:n',
  backoffNext: 'nn:n',
  backoffRestart: 'n:v',
  backoffDrop: 'n:b',
  budgetCreate: 'sbt:n',
  budgetDrop: 'n:b',
  budgetTryWithdraw: 'nt:b',
  budgetTokens: 'nt:n',
  budgetStats: 'nt:s',
  budgetFleetReport: 'nt:s',
  budgetFleetSync: 'nnst:v',
  budgetFleetAlone: 'nt:v',
  hedgePolicyCreate: 'sbt:n',
  hedgePolicyDrop: 'n:b',
  hedgeIsRetryable: 'nj:b',
  hedgeStart: 'nt:n',
  hedgeStep: 'nt:n',
  hedgeSync: 'nnnnFt:v',
  hedgeDelay: 'nt:f',
  hedgeStartBegun: 'nnn:n',
  hedgeSettle: 'nnnt:n',
  hedgeEnd: 'n:b',
  hedgeStats: 'nt:s',
  adaptiveCreate: 'sbn:n',
  adaptiveDrop: 'n:b',
  adaptivePartition: 'ns:n',
  adaptiveAcquire: 'nnt:n',
  adaptiveRelease: 'nnnt:v',
  adaptiveStats: 'n:s',
  adaptiveRetryAfter: 'nt:n',
  adaptiveMessage: 'sn:s',
  limitOutcome: 'n:n',
  shedAnswer: 'on:l',
  rateLimitCreate: 'sb:n',
  rateLimitDrop: 'n:b',
  rateLimitCancel: 'nn:b',
  rateLimitStats: 'nt:s',
  rateLimitFleetReport: 'nt:s',
  rateLimitFleetSync: 'nnst:v',
  rateLimitFleetAlone: 'n:v',
  quotaSyncJoin: 'sns:v',
  quotaSyncLeave: 'snt:v',
  quotaSyncNext: 'snt:s',
  quotaSyncReply: 'snst:v',
  quotaSyncFailed: 'snt:v',
  quotaSyncStatus: 'sn:s',
  rateLimitMessage: 'sn:s',
  fleetStore: 'ss:s',
  health: 't:s',
  breakerHealth: 't:s',
  breakerNames: ':l',
  resetAll: 't:v',
  clearRegistry: ':v',
  recordRetryAttempt: 's:v',
  recordTimeout: 's:v',
  prometheus: ':s',
  gaugeSamples: ':s',
  errorCodes: ':l',
  telemetryEvents: ':s',
  telemetryInstruments: ':s',
  stateNames: ':l',
  giveUpReasons: ':l',
  giveUpCodes: ':l',
  defaultsJson: ':s',
  preapprovedPermit: ':n',
  unconditionalAdmits: ':B',
  presetPolicy: 'sb:o',
  presetCircuit: 'sb:o',
  presetRetry: 'snnnb:o',
  validate: 'ssb:v',
  deadline: 'nnn:n',
  classifyOutcome: 'sn:s',
  hedgeable: 'sb:b',
  countStatus: 'n:n',
  retryAfter: 'sn:n',
  headerMs: 's:n',
  rngFloats: 'nn:f',
} as const;
