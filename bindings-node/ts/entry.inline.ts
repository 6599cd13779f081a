/**
 * `seawall/inline`: the browser build with its WebAssembly module embedded in the JavaScript (as
 * base64), for bundlers that do not emit `new URL(…, import.meta.url)` assets (esbuild, Rollup):
 * nothing to configure and no file to serve, at the cost of a larger script.
 */
// @ts-expect-error Generated into dist/esm by scripts/build-cjs.mjs from the built module.
import { wasmBase64 } from './wasm-inline.js';
// @ts-expect-error The glue is resolved from dist/esm at run time; `WasmGlue` types it.
import * as glue from '../../wasm/seawall_wasm.js';
import { installWasmBackend } from './load-wasm-browser.js';

await installWasmBackend(glue, () => Uint8Array.from(atob(wasmBase64 as string), (c) => c.charCodeAt(0)));

export * from './index.js';
