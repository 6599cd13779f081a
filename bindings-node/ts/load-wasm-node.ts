/** Loads the wasm backend in Node from the files beside the package (no fetch). */
import type { Backend } from './backend.js';
import { wasmBackend, type WasmGlue } from './backend-wasm.js';

export async function loadWasmNode(readFileSync: (url: URL) => Uint8Array): Promise<Backend> {
  const glue = (await import(new URL('../../wasm/seawall_wasm.js', import.meta.url).href)) as WasmGlue;
  const { memory } = glue.initSync({ module: readFileSync(new URL('../../wasm/seawall_wasm_bg.wasm', import.meta.url)) as BufferSource });
  return wasmBackend(glue, memory);
}

/** For the conformance runner (SEAWALL_BACKEND_MODULE). */
export async function loadBackend(): Promise<Backend> {
  const { readFileSync } = await import('node:fs');
  return loadWasmNode(readFileSync);
}
