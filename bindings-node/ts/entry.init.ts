/**
 * `seawall/init`: the browser build without top-level await, for where it is not allowed (a
 * service worker) or where the page says where the module is. Call `init()` (or
 * `init(url | Response | bytes)`) and wait for it before the first policy; until then a policy
 * fails with an error saying so.
 */
// @ts-expect-error The glue is resolved from dist/esm at run time; `WasmGlue` types it.
import * as glue from '../../wasm/seawall_wasm.js';
import { markUninitialised } from './backend.js';
import { fetchWasm, installWasmBackend } from './load-wasm-browser.js';

let pending: Promise<void> | undefined;

markUninitialised("seawall/init: call `await init()` before the first policy");

/** Fetches and installs the WebAssembly module (once: later calls answer the same promise; a
 * failed attempt can be made again). */
export default function init(source?: string | URL | Response | BufferSource): Promise<void> {
  pending ??= load(source).catch((e: unknown) => {
    pending = undefined;
    throw e;
  });
  return pending;
}

function load(source: string | URL | Response | BufferSource | undefined): Promise<void> {
  return installWasmBackend(glue, () => {
    if (source !== undefined && typeof source !== 'string' && !(source instanceof URL)) return source;
    const base = (globalThis as { location?: { href: string } }).location?.href;
    return fetchWasm(source === undefined ? new URL('../../wasm/seawall_wasm_bg.wasm', import.meta.url) : new URL(source, base));
  });
}

export * from './index.js';
