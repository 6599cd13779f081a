/**
 * `seawall` in Cloudflare Workers (workerd), where a WebAssembly module is imported as a module
 * and compiling bytes at run time is forbidden: the whole engine's module (`seawall/full`'s),
 * instantiated as the script loads. Wrangler (and any bundler told to keep `.wasm` imports as
 * modules) hands it over.
 */
// @ts-expect-error Resolved from dist/esm at run time: a WebAssembly.Module in workerd.
import wasm from '../../wasm/seawall_wasm_full_bg.wasm';
// @ts-expect-error The glue is resolved from dist/esm at run time; `WasmGlue` types it.
import * as glueModule from '../../wasm/seawall_wasm.js';

import { installBackend } from './backend.js';
import { wasmBackend, type WasmGlue } from './backend-wasm.js';
import { installHedging } from './fetch.js';
import { HEDGING } from './hedge.js';

const glue = glueModule as WasmGlue;
const { memory } = glue.initSync({ module: wasm as WebAssembly.Module });
installBackend(wasmBackend(glue, memory), true);
installHedging(HEDGING);

export * from './index.js';
