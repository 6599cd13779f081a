/* tslint:disable */
/* eslint-disable */
export const memory: WebAssembly.Memory;
export const __wbg_engine_free: (a: number, b: number) => void;
export const engine_argsPtr: (a: number) => number;
export const engine_breakerAcquire: (a: number, b: number, c: number, d: number) => number;
export const engine_breakerRecord: (a: number, b: number, c: number, d: number, e: number, f: number, g: number) => number;
export const engine_budgetRecordSuccess: (a: number, b: number, c: number, d: number) => void;
export const engine_bulkheadAcquire: (a: number, b: number, c: number, d: number) => number;
export const engine_bulkheadRelease: (a: number, b: number, c: number, d: number, e: number) => number;
export const engine_call: (a: number, b: number, c: number, d: number, e: number, f: number) => [number, number, number, number];
export const engine_new: () => number;
export const engine_outPtr: (a: number) => number;
export const engine_rateLimitAcquire: (a: number, b: number, c: number, d: number) => number;
export const engine_retryEnd: (a: number, b: number) => number;
export const engine_retryStart: (a: number, b: number, c: number, d: number) => number;
export const __wbindgen_externrefs: WebAssembly.Table;
export const __wbindgen_malloc: (a: number, b: number) => number;
export const __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
export const __wbindgen_free: (a: number, b: number, c: number) => void;
export const __externref_table_dealloc: (a: number) => void;
export const __wbindgen_start: () => void;
