/**
 * The wasm backend: the wasm-bindgen module (built with `--target web`) adapted to `Backend`.
 * Only presentation lives here. The module's surface is narrow for size (every export costs a
 * wrapper in the module and a function in the glue): the per-call operations are exports of
 * their own, answering numbers (second answers in `out`, read through a view on wasm memory);
 * every other operation is `engine.call(row, s1, s2)` with its numbers written to `args` (a
 * second view), and the table below says how each one's arguments and answer are laid out
 * (an operation's number is its row: keep the order in step with `Engine::call`).
 * (Given no time, the wasm engine reads `performance.now()` itself for the per-call operations,
 * and this adapter does the same for the others, as the native ones read the host clock.)
 */
import type { Backend } from './backend.js';
import { CALLS } from './ops.js';

/** The parts of the generated glue the adapter uses (checked against the generated .d.ts by test/types/backend-types.ts). */
export interface WasmGlue {
  default(input?: unknown): Promise<{ memory: WebAssembly.Memory }>;
  initSync(input: { module: BufferSource | WebAssembly.Module }): { memory: WebAssembly.Memory };
  Engine: new () => WasmEngine;
}

export interface WasmEngine {
  outPtr(): number;
  argsPtr(): number;
  call(op: number, s1: string, s2: string): string;
  breakerAcquire(handle: number, now?: number): number;
  breakerRecord(handle: number, permit: number, outcome: number, now: number | undefined, startedAt: number): number;
  bulkheadAcquire(handle: number, now?: number): number;
  bulkheadRelease(handle: number, permit: number, now?: number): number;
  retryStart(policy: number, now?: number): number;
  retryEnd(call: number): boolean;
  rateLimitAcquire(handle: number, now?: number): number;
  budgetRecordSuccess(handle: number, now?: number): void;
}

/**
 * How each operation through `call` lays out its arguments and answer (`CALLS`, generated with
 * the module's dispatch from one declaration; an operation's row is its place in the table):
 * its parameters, then `:` and its answer.
 * Parameters: `n` a number, `t` a time (undefined: the clock), `b` a boolean, `s` a string,
 * `o` a string or null (its presence is a number too), `j` a string list (sent as JSON).
 * Numbers go to `args` in order, strings to `s1`, `s2` in order.
 * Answers: `n` out[0], `b` out[0] as a boolean, `s` the text, `o` the text or null (out[0] says),
 * `v` nothing, `f` numbers (the text, comma-separated), `B` booleans (the same), `l` strings (JSON).
 */
type Direct = 'kind' | 'out' | 'now' | 'hedgeBegin' | 'breakerAcquire' | 'breakerRecord' | 'bulkheadAcquire' | 'bulkheadRelease' | 'retryEnd' | 'rateLimitAcquire' | 'budgetRecordSuccess';
// Every other `Backend` method has a row (a missing one is a compile error here); `simulate`
// has none: the browser build leaves the simulator out.
const ROWS: Record<Exclude<keyof Backend, Direct | 'simulate'>, string> = CALLS;

const clockNow = (): number => performance.now();

/** Builds the backend over an initialised glue module. */
export function wasmBackend(glue: WasmGlue, memory: WebAssembly.Memory): Backend {
  const engine = new glue.Engine();
  // The views go stale when wasm memory grows; they are re-made on first use after that.
  const view = (ptr: number, n: number) => {
    let v = new Float64Array(memory.buffer, ptr, n);
    return (): Float64Array => (v.buffer === memory.buffer ? v : (v = new Float64Array(memory.buffer, ptr, n)));
  };
  const out = view(engine.outPtr(), 4);
  const args = view(engine.argsPtr(), 8);
  const numbers = (text: string): number[] => (text === '' ? [] : text.split(',').map(Number));
  const b: Record<string, unknown> = {
    kind: 'wasm',
    get out() {
      return out();
    },
    now: clockNow,
    breakerAcquire: engine.breakerAcquire.bind(engine),
    breakerRecord: engine.breakerRecord.bind(engine),
    bulkheadAcquire: engine.bulkheadAcquire.bind(engine),
    bulkheadRelease: engine.bulkheadRelease.bind(engine),
    budgetRecordSuccess: engine.budgetRecordSuccess.bind(engine),
    retryEnd: engine.retryEnd.bind(engine),
    rateLimitAcquire: (handle: number, now?: number) => {
      const wait = engine.rateLimitAcquire(handle, now);
      return [wait, out()[1]];
    },
  };
  for (const [row, [name, spec]] of Object.entries(ROWS).entries()) {
    const [params, answer] = spec.split(':') as [string, string];
    b[name] = (...values: unknown[]): unknown => {
      const a = args();
      const strings = ['', ''];
      let n = 0;
      let s = 0;
      for (let i = 0; i < params.length; i++) {
        const p = params[i];
        const v = values[i];
        if (p === 's') strings[s++] = v as string;
        else if (p === 'j') strings[s++] = JSON.stringify(v);
        else if (p === 'F') strings[s++] = (v as number[]).join(',');
        else if (p === 'o') {
          a[n++] = v == null ? 0 : 1;
          strings[s++] = v == null ? '' : (v as string);
        } else a[n++] = p === 't' && v === undefined ? clockNow() : Number(v);
      }
      const text = engine.call(row, strings[0]!, strings[1]!);
      switch (answer) {
        case 'n':
          return out()[0];
        case 'b':
          return out()[0] !== 0;
        case 'o':
          return out()[0] !== 0 ? text : null;
        case 'f':
          return numbers(text);
        case 'B':
          return numbers(text).map(Boolean);
        case 'l':
          return JSON.parse(text) as string[];
        case 'v':
          return undefined;
        default:
          return text;
      }
    };
  }
  // A retry starts per call: its own export, and a refused start (-1: a bad handle) is asked
  // again through `call`, which raises the core's error.
  const startChecked = b.retryStart as (policy: number, now?: number) => number;
  b.retryStart = (policy: number, now?: number) => {
    const id = engine.retryStart(policy, now);
    return id >= 0 ? id : startChecked(policy, now);
  };
  // A hedged call's start and first step: two rows, answered as the napi hot path does (the
  // call in out[0], the step in out[1]).
  const hedgeStart = b.hedgeStart as (policy: number, now?: number) => number;
  const hedgeStep = b.hedgeStep as (call: number, now?: number) => number;
  b.hedgeBegin = (policy: number, now?: number) => {
    const t = now ?? clockNow();
    const call = hedgeStart(policy, t);
    const step = hedgeStep(call, t);
    const o = out();
    o[0] = call;
    o[1] = step;
    return call;
  };
  return b as unknown as Backend;
}
