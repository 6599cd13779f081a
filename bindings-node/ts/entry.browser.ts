/** `seawall` in browsers: the wasm backend under the shared shell (fetches the .wasm beside the glue). */
import { installBackend } from './backend.js';
import { wasmBackend, type WasmGlue } from './backend-wasm.js';

const glue = (await import(/* @vite-ignore */ new URL('../../wasm/seawall_wasm.js', import.meta.url).href)) as WasmGlue;
const { memory } = await glue.default({ module_or_path: new URL('../../wasm/seawall_wasm_bg.wasm', import.meta.url) });
installBackend(wasmBackend(glue, memory));

export * from './index.js';
