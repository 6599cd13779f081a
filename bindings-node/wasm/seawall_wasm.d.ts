/* tslint:disable */
/* eslint-disable */

export class Engine {
    free(): void;
    [Symbol.dispose](): void;
    /**
     * Address of the eight `args` numbers in wasm memory (stable for the engine's life).
     */
    argsPtr(): number;
    breakerAcquire(handle: number, now?: number | null): number;
    breakerRecord(handle: number, permit: number, outcome: number, now: number | null | undefined, started_at: number): number;
    budgetRecordSuccess(handle: number, now?: number | null): void;
    bulkheadAcquire(handle: number, now?: number | null): number;
    bulkheadRelease(handle: number, permit: number, now?: number | null): number;
    /**
     * Every other operation, by its row in the adapter's `CALLS` table (numbers, not names: a
     * match on 78 names was 2.5 KB of this module), with the argument orders of the `Backend`
     * interface: numbers from `args`, strings `s1` then `s2`. Answers text, and numbers or
     * booleans (0/1) in `out[0]`; an optional text sets `out[0]` to 1 when present. The rows and
     * the table are generated from one declaration (`ops.rs`, `ts/ops.ts`); every operation is
     * checked against the napi backend by `test/backends.test.mjs`, and by the vectors in Chromium.
     */
    call(op: number, s1: string, s2: string): string;
    constructor();
    /**
     * Address of the four `out` numbers in wasm memory (stable for the engine's life).
     */
    outPtr(): number;
    /**
     * [wait, ticket] in `out`; answers the wait.
     */
    rateLimitAcquire(handle: number, now?: number | null): number;
    retryEnd(call: number): boolean;
    /**
     * The retry call's id; a bad policy handle answers -1 (the adapter raises the core's
     * error through `call("retryStart")`, which answers it).
     */
    retryStart(policy: number, now?: number | null): number;
}

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly __wbg_engine_free: (a: number, b: number) => void;
    readonly engine_argsPtr: (a: number) => number;
    readonly engine_breakerAcquire: (a: number, b: number, c: number, d: number) => number;
    readonly engine_breakerRecord: (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => number;
    readonly engine_budgetRecordSuccess: (a: number, b: number, c: number, d: number) => void;
    readonly engine_bulkheadAcquire: (a: number, b: number, c: number, d: number) => number;
    readonly engine_bulkheadRelease: (a: number, b: number, c: number, d: number, e: number) => number;
    readonly engine_call: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number, number];
    readonly engine_new: () => number;
    readonly engine_outPtr: (a: number) => number;
    readonly engine_rateLimitAcquire: (a: number, b: number, c: number, d: number) => number;
    readonly engine_retryEnd: (a: number, b: number) => number;
    readonly engine_retryStart: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __externref_table_dealloc: (a: number) => void;
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
