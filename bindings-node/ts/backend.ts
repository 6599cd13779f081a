/**
 * The one interface every native backend implements (napi in Node, wasm in browsers). The
 * shell is written against it once; an entry point installs a backend and re-exports the shell.
 *
 * Hot-path methods answer in `out` (no allocation): `out[0]` the main answer, `out[1]` a second
 * one, `out[2]` 1 when state changes wait to be drained, `out[3]` the time the backend used.
 * Passing `undefined` as `now` asks the backend to read its own monotonic clock (the napi
 * backend does that in the same crossing; the wasm backend reads `performance.now()`); any
 * number, NaN included, goes to the core as it is.
 *
 * Cold-path methods mirror `seawall_core::Engine` one to one. Errors are thrown as `Error`s whose
 * message is `SEAWALL:` followed by the error's JSON; `errors.ts` turns them into typed errors.
 */
/** A time in ms, or undefined: "read your clock". */
export type Now = number | undefined;

export interface Backend {
  readonly kind: 'napi' | 'wasm';
  readonly out: Float64Array;

  // hot paths
  breakerAcquire(handle: number, now: Now): number;
  breakerRecord(handle: number, permit: number, outcome: number, now: Now, startedAt: number): number;
  bulkheadAcquire(handle: number, now: Now): number;
  bulkheadRelease(handle: number, permit: number, now: Now): number;
  now(): number;

  // constants
  errorCodes(): string[];
  stateNames(): string[];
  giveUpReasons(): string[];
  giveUpCodes(): string[];
  defaultsJson(): string;
  preapprovedPermit(): number;
  unconditionalAdmits(): boolean[];

  // breakers
  breakerCreate(optionsJson: string, seconds: boolean, name?: string | null): number;
  breakerGetOrCreate(name: string, optionsJson: string, seconds: boolean): number[];
  breakerLookup(name: string): number;
  breakerName(handle: number): string | null | undefined;
  breakerDrop(handle: number): boolean;
  breakerEvents(handle: number): string;
  breakerInertSuccessStates(handle: number): boolean[];
  breakerRecordSuccesses(handle: number, count: number, now: Now): number;
  breakerState(handle: number, now: Now): number;
  breakerCurrentState(handle: number): number;
  breakerCommand(handle: number, command: string, now: Now): number;
  /** The fleet's sync: this replica's report, the replicas' reports in (the tally out), and
   * the probe lease to take (its ms) or NaN. */
  breakerFleetReport(handle: number, now: Now): string;
  breakerFleetSync(handle: number, reportsJson: string, now: Now): string;
  breakerProbeLease(handle: number, now: Now): number;
  breakerRetryAfter(handle: number, now: Now): number;
  breakerNextTimeout(handle: number): number;
  rejectionMessage(name: string, code: number, retryAfterMs: number): string;
  breakerStats(handle: number, now: Now): string;
  breakerConfig(handle: number): string;
  breakerSnapshot(handle: number, now: Now): string;
  breakerRestore(handle: number, snapshotJson: string, now: Now): void;

  // bulkheads
  bulkheadCreate(optionsJson: string, seconds: boolean, name?: string | null): number;
  bulkheadDrop(handle: number): boolean;
  bulkheadGetOrCreate(name: string, optionsJson: string, seconds: boolean): number[];
  bulkheadLookup(name: string): number;
  bulkheadCancel(handle: number, ticket: number): boolean;
  bulkheadNextTimeout(handle: number): number;
  bulkheadExpire(handle: number, now: Now): number[];
  bulkheadMetrics(handle: number): string;

  // retries and budgets
  retryPolicyCreate(optionsJson: string, seconds: boolean, seed: number): number;
  retryPolicyDrop(handle: number): boolean;
  retryPolicyInfo(handle: number): string;
  retryIsRetryable(handle: number, ids: string[]): boolean;
  retryStart(policy: number, now: Now): number;
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

  // rate limiters: acquire answers [wait ms (0: now; negative: refused, minus the ms until a
  // place is free), ticket to give a reserved place back (NaN: none)]
  rateLimitCreate(optionsJson: string, seconds: boolean): number;
  rateLimitDrop(handle: number): boolean;
  rateLimitAcquire(handle: number, now: Now): number[];
  rateLimitCancel(handle: number, ticket: number): boolean;
  rateLimitStats(handle: number, now: Now): string;
  /** Fleet mode: this replica's `{demand, want}`; the store's grant and the others' reports; the store lost. */
  rateLimitFleetReport(handle: number, now: Now): string;
  rateLimitFleetSync(handle: number, granted: number, reportsJson: string, now: Now): void;
  rateLimitFleetAlone(handle: number): void;
  rateLimitMessage(name: string, retryAfterMs: number): string;
  /** A fleet's Redis keys and scripts: `{keys: {reports, marks, lease, quota}, scripts: {sync, mark, release, quota}}`. */
  fleetStore(prefix: string, name: string): string;

  // registry, health, metrics
  health(now: Now): string;
  breakerHealth(now: Now): string;
  breakerNames(): string[];
  resetAll(now: Now): void;
  clearRegistry(): void;
  recordRetryAttempt(name: string): void;
  recordTimeout(name: string): void;
  prometheus(): string;

  // presets, validation, misc
  presetPolicy(name: string, python: boolean): string | null | undefined;
  presetCircuit(name: string, python: boolean): string | null | undefined;
  presetRetry(kind: string, a: number, b: number, c: number, python: boolean): string | null | undefined;
  validate(kind: string, optionsJson: string, seconds: boolean): void;
  deadline(now: Now, timeoutMs: number, outer: number): number;
  /** A Retry-After header as ms from `nowEpochMs`; NaN when unreadable. */
  retryAfter(value: string, nowEpochMs: number): number;
  rngFloats(seed: number, count: number): number[];
  /** Absent from the browser (wasm) build, which leaves the simulator out for size. */
  simulate?(scenarioJson: string): string;
}

let installed: Backend | undefined;
let fallbackReason: string | undefined;
let uninstalledMessage = 'seawall: no backend installed (import "seawall", not a file inside it)';

/** What a call made before the entry installed its backend is told (`seawall/init`). */
export function markUninitialised(message: string): void {
  uninstalledMessage = message;
}

/** Why this process runs on wasm where it could have had the addon (Node only). */
export function noteFallback(reason: string): void {
  fallbackReason = reason;
}

/**
 * Which engine backend runs this process: `'napi'` (the native addon) or `'wasm'` (browsers,
 * `seawall/wasm`, and Node where no addon loads); the same decisions either way. In Node on wasm,
 * `reason` says why (the addon's load error, or that SEAWALL_BACKEND asked for wasm).
 */
export function backendInfo(): { name: 'napi' | 'wasm'; reason?: string } {
  const name = backend().kind;
  return name === 'wasm' && fallbackReason !== undefined ? { name, reason: fallbackReason } : { name };
}

/** `backendInfo().name`. */
export function backendName(): 'napi' | 'wasm' {
  return backend().kind;
}

/** Installs the backend (done once by each entry point). */
export function installBackend(b: Backend): void {
  installed = b;
}

export function backend(): Backend {
  if (installed === undefined) {
    throw new Error(uninstalledMessage);
  }
  return installed;
}
