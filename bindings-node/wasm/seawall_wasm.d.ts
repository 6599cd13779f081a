/* tslint:disable */
/* eslint-disable */

export class Engine {
    free(): void;
    [Symbol.dispose](): void;
    backoffCreate(options_json: string, seconds: boolean, seed: number): number;
    backoffDrop(handle: number): boolean;
    backoffNext(handle: number, retry: number): number;
    backoffRestart(handle: number): void;
    breakerAcquire(handle: number, now?: number | null): number;
    breakerCommand(handle: number, command: string, now?: number | null): number;
    breakerConfig(handle: number): string;
    breakerCreate(options_json: string, seconds: boolean, name?: string | null): number;
    breakerCurrentState(handle: number): number;
    breakerDrop(handle: number): boolean;
    breakerEvents(handle: number): string;
    breakerFleetReport(handle: number, now?: number | null): string;
    breakerFleetSync(handle: number, reports_json: string, now?: number | null): string;
    breakerGetOrCreate(name: string, options_json: string, seconds: boolean): Uint32Array;
    breakerHealth(now?: number | null): string;
    breakerInertSuccessStates(handle: number): Uint8Array;
    breakerLookup(name: string): number;
    breakerName(handle: number): string | undefined;
    breakerNames(): string[];
    breakerNextTimeout(handle: number): number;
    breakerProbeLease(handle: number, now?: number | null): number;
    breakerRecordSuccesses(handle: number, count: number, now?: number | null): number;
    breakerRecord(handle: number, permit: number, outcome: number, now: number | null | undefined, started_at: number): number;
    breakerRestore(handle: number, snapshot_json: string, now?: number | null): void;
    breakerRetryAfter(handle: number, now?: number | null): number;
    breakerSnapshot(handle: number, now?: number | null): string;
    breakerState(handle: number, now?: number | null): number;
    breakerStats(handle: number, now?: number | null): string;
    budgetCreate(options_json: string, seconds: boolean, now?: number | null): number;
    budgetDrop(handle: number): boolean;
    budgetFleetAlone(handle: number, now?: number | null): void;
    budgetFleetReport(handle: number, now?: number | null): string;
    budgetFleetSync(handle: number, granted: number, reports_json: string, now?: number | null): void;
    budgetRecordSuccess(handle: number, now?: number | null): void;
    budgetStats(handle: number, now?: number | null): string;
    budgetTokens(handle: number, now?: number | null): number;
    budgetTryWithdraw(handle: number, now?: number | null): boolean;
    bulkheadAcquire(handle: number, now?: number | null): number;
    bulkheadCancel(handle: number, ticket: number): boolean;
    bulkheadCreate(options_json: string, seconds: boolean, name?: string | null): number;
    bulkheadDrop(handle: number): boolean;
    bulkheadExpire(handle: number, now?: number | null): Float64Array;
    bulkheadGetOrCreate(name: string, options_json: string, seconds: boolean): Uint32Array;
    bulkheadLookup(name: string): number;
    bulkheadMetrics(handle: number): string;
    bulkheadNextTimeout(handle: number): number;
    bulkheadRelease(handle: number, permit: number, now?: number | null): number;
    clearRegistry(): void;
    health(now?: number | null): string;
    constructor();
    /**
     * Address of the four `out` numbers in wasm memory (stable for the engine's life).
     */
    outPtr(): number;
    prometheus(): string;
    rateLimitAcquire(handle: number, now?: number | null): Float64Array;
    rateLimitCancel(handle: number, ticket: number): boolean;
    rateLimitCreate(options_json: string, seconds: boolean): number;
    rateLimitDrop(handle: number): boolean;
    rateLimitFleetAlone(handle: number): void;
    rateLimitFleetReport(handle: number, now?: number | null): string;
    rateLimitFleetSync(handle: number, granted: number, reports_json: string, now?: number | null): void;
    rateLimitStats(handle: number, now?: number | null): string;
    recordRetryAttempt(name: string): void;
    recordTimeout(name: string): void;
    resetAll(now?: number | null): void;
    retryEnd(call: number): boolean;
    retryIsRetryable(handle: number, ids: string[]): boolean;
    retryOnFailure(call: number, now: number | null | undefined, failure_class: number, retry_after_ms: number, budget: number): Float64Array;
    retryPolicyCreate(options_json: string, seconds: boolean, seed: number): number;
    retryPolicyDrop(handle: number): boolean;
    retryPolicyInfo(handle: number): string;
    retryStart(policy: number, now?: number | null): number;
}

export function deadline(now: number, timeout_ms: number, outer: number): number;

export function defaultsJson(): string;

export function errorCodes(): string[];

export function fleetStore(prefix: string, name: string): string;

export function giveUpCodes(): string[];

export function giveUpReasons(): string[];

export function preapprovedPermit(): number;

export function presetCircuit(name: string, python: boolean): string | undefined;

export function presetPolicy(name: string, python: boolean): string | undefined;

export function presetRetry(kind: string, a: number, b: number, c: number, python: boolean): string | undefined;

export function rateLimitMessage(name: string, retry_after_ms: number): string;

export function rejectionMessage(name: string, code: number, retry_after_ms: number): string;

export function retryAfter(value: string, now_epoch_ms: number): number;

export function rngFloats(seed: number, count: number): Float64Array;

export function stateNames(): string[];

export function unconditionalAdmits(): Uint8Array;

export function validate(kind: string, options_json: string, seconds: boolean): void;

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_engine_free: (a: number, b: number) => void;
    readonly deadline: (a: number, b: number, c: number) => number;
    readonly defaultsJson: () => [number, number];
    readonly engine_backoffCreate: (a: number, b: number, c: number, d: number, e: number) => [number, number, number];
    readonly engine_backoffDrop: (a: number, b: number) => number;
    readonly engine_backoffNext: (a: number, b: number, c: number) => number;
    readonly engine_backoffRestart: (a: number, b: number) => void;
    readonly engine_breakerAcquire: (a: number, b: number, c: number, d: number) => number;
    readonly engine_breakerCommand: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number];
    readonly engine_breakerConfig: (a: number, b: number) => [number, number, number, number];
    readonly engine_breakerCreate: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number];
    readonly engine_breakerCurrentState: (a: number, b: number) => number;
    readonly engine_breakerDrop: (a: number, b: number) => number;
    readonly engine_breakerEvents: (a: number, b: number) => [number, number];
    readonly engine_breakerFleetReport: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly engine_breakerFleetSync: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number, number];
    readonly engine_breakerGetOrCreate: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number, number];
    readonly engine_breakerHealth: (a: number, b: number, c: number) => [number, number];
    readonly engine_breakerInertSuccessStates: (a: number, b: number) => [number, number];
    readonly engine_breakerLookup: (a: number, b: number, c: number) => number;
    readonly engine_breakerName: (a: number, b: number) => [number, number];
    readonly engine_breakerNames: (a: number) => [number, number];
    readonly engine_breakerNextTimeout: (a: number, b: number) => number;
    readonly engine_breakerProbeLease: (a: number, b: number, c: number, d: number) => number;
    readonly engine_breakerRecord: (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => number;
    readonly engine_breakerRecordSuccesses: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly engine_breakerRestore: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number];
    readonly engine_breakerRetryAfter: (a: number, b: number, c: number, d: number) => number;
    readonly engine_breakerSnapshot: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly engine_breakerState: (a: number, b: number, c: number, d: number) => [number, number, number];
    readonly engine_breakerStats: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly engine_budgetCreate: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number];
    readonly engine_budgetDrop: (a: number, b: number) => number;
    readonly engine_budgetFleetAlone: (a: number, b: number, c: number, d: number) => [number, number];
    readonly engine_budgetFleetReport: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly engine_budgetFleetSync: (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => [number, number];
    readonly engine_budgetRecordSuccess: (a: number, b: number, c: number, d: number) => void;
    readonly engine_budgetStats: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly engine_budgetTokens: (a: number, b: number, c: number, d: number) => number;
    readonly engine_budgetTryWithdraw: (a: number, b: number, c: number, d: number) => number;
    readonly engine_bulkheadAcquire: (a: number, b: number, c: number, d: number) => number;
    readonly engine_bulkheadCancel: (a: number, b: number, c: number) => number;
    readonly engine_bulkheadCreate: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number];
    readonly engine_bulkheadDrop: (a: number, b: number) => number;
    readonly engine_bulkheadExpire: (a: number, b: number, c: number, d: number) => [number, number];
    readonly engine_bulkheadGetOrCreate: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number, number];
    readonly engine_bulkheadLookup: (a: number, b: number, c: number) => number;
    readonly engine_bulkheadMetrics: (a: number, b: number) => [number, number, number, number];
    readonly engine_bulkheadNextTimeout: (a: number, b: number) => number;
    readonly engine_bulkheadRelease: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly engine_clearRegistry: (a: number) => void;
    readonly engine_health: (a: number, b: number, c: number) => [number, number];
    readonly engine_new: () => number;
    readonly engine_outPtr: (a: number) => number;
    readonly engine_prometheus: (a: number) => [number, number];
    readonly engine_rateLimitAcquire: (a: number, b: number, c: number, d: number) => [number, number];
    readonly engine_rateLimitCancel: (a: number, b: number, c: number) => number;
    readonly engine_rateLimitCreate: (a: number, b: number, c: number, d: number) => [number, number, number];
    readonly engine_rateLimitDrop: (a: number, b: number) => number;
    readonly engine_rateLimitFleetAlone: (a: number, b: number) => [number, number];
    readonly engine_rateLimitFleetReport: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly engine_rateLimitFleetSync: (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => [number, number];
    readonly engine_rateLimitStats: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly engine_recordRetryAttempt: (a: number, b: number, c: number) => void;
    readonly engine_recordTimeout: (a: number, b: number, c: number) => void;
    readonly engine_resetAll: (a: number, b: number, c: number) => void;
    readonly engine_retryEnd: (a: number, b: number) => number;
    readonly engine_retryIsRetryable: (a: number, b: number, c: number, d: number) => number;
    readonly engine_retryOnFailure: (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => [number, number, number, number];
    readonly engine_retryPolicyCreate: (a: number, b: number, c: number, d: number, e: number) => [number, number, number];
    readonly engine_retryPolicyDrop: (a: number, b: number) => number;
    readonly engine_retryPolicyInfo: (a: number, b: number) => [number, number, number, number];
    readonly engine_retryStart: (a: number, b: number, c: number, d: number) => [number, number, number];
    readonly errorCodes: () => [number, number];
    readonly fleetStore: (a: number, b: number, c: number, d: number) => [number, number];
    readonly giveUpCodes: () => [number, number];
    readonly giveUpReasons: () => [number, number];
    readonly preapprovedPermit: () => number;
    readonly presetCircuit: (a: number, b: number, c: number) => [number, number];
    readonly presetPolicy: (a: number, b: number, c: number) => [number, number];
    readonly presetRetry: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number];
    readonly rateLimitMessage: (a: number, b: number, c: number) => [number, number];
    readonly rejectionMessage: (a: number, b: number, c: number, d: number) => [number, number];
    readonly retryAfter: (a: number, b: number, c: number) => number;
    readonly rngFloats: (a: number, b: number) => [number, number];
    readonly stateNames: () => [number, number];
    readonly unconditionalAdmits: () => [number, number];
    readonly validate: (a: number, b: number, c: number, d: number, e: number) => [number, number];
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __externref_drop_slice: (a: number, b: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
