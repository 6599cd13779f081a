/**
 * Installs the Node backend; imported first by the Node entry. The napi addon where it loads;
 * otherwise (a platform without a prebuilt addon, a failed optional install) the wasm module,
 * with the same API and the same decisions. `SEAWALL_BACKEND=wasm` asks for wasm, and
 * `SEAWALL_BACKEND=napi` for the addon only (its load error is then thrown).
 */
import { installBackend, noteFallback } from './backend.js';
import { loadNapiBackend } from './backend-napi.js';
import { loadWasmNode } from './load-wasm-node.js';

const wanted = process.env.SEAWALL_BACKEND;
if (wanted === 'wasm') {
  noteFallback('SEAWALL_BACKEND=wasm');
  installBackend(loadWasmNode());
} else if (wanted === 'napi') {
  installBackend(loadNapiBackend());
} else {
  try {
    installBackend(loadNapiBackend());
  } catch (e) {
    noteFallback(`the native addon did not load: ${e instanceof Error ? e.message : String(e)}`);
    installBackend(loadWasmNode());
  }
}
