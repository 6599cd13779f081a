/**
 * The wasm backend in Node, loaded synchronously from the files beside the package (no fetch):
 * what `seawall` falls back to where no native addon loads, what `seawall/wasm` installs, and
 * what the wasm conformance runner drives. Synchronous so that `require('seawall')` can use it.
 * It loads the module built with the fleet's sync drivers (the browser's leaves them out), under
 * the same glue: `make build-wasm` checks that the two builds' glue is the same.
 */
import { readFileSync } from 'node:fs';

// @ts-expect-error The glue is resolved from dist/esm at run time (and bundled into dist/cjs); `WasmGlue` types it.
import * as glueModule from '../../wasm/seawall_wasm.js';

import type { Backend } from './backend.js';
import { wasmBackend, type WasmGlue } from './backend-wasm.js';

export function loadWasmNode(): Backend {
  const glue = glueModule as WasmGlue;
  const { memory } = glue.initSync({ module: readFileSync(new URL('../../wasm/seawall_wasm_fleet_bg.wasm', import.meta.url)) });
  return wasmBackend(glue, memory);
}

/** For the conformance runner (SEAWALL_BACKEND_MODULE). */
export async function loadBackend(): Promise<Backend> {
  return loadWasmNode();
}
