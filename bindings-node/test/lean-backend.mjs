// The browser's lean wasm module loaded in Node, for the conformance runner
// (SEAWALL_BACKEND_MODULE): the same module a page gets from `seawall`, under the same glue.
import { readFileSync } from 'node:fs';

import * as glue from '../wasm/seawall_wasm.js';
import { wasmBackend } from '../dist/esm/backend-wasm.js';

export async function loadBackend() {
  const { memory } = glue.initSync({ module: readFileSync(new URL('../wasm/seawall_wasm_bg.wasm', import.meta.url)) });
  return wasmBackend(glue, memory);
}
