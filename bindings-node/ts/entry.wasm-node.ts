/** `seawall/wasm` in Node: the wasm backend instead of the napi addon (same shell, same API). */
import { installBackend } from './backend.js';
import { loadWasmNode } from './load-wasm-node.js';

installBackend(loadWasmNode());

export * from './index.js';
