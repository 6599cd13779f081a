/** `seawall/wasm` in Node: the wasm backend instead of the napi addon (same shell, same API). */
import { readFileSync } from 'node:fs';

import { installBackend } from './backend.js';
import { loadWasmNode } from './load-wasm-node.js';

installBackend(await loadWasmNode(readFileSync));

export * from './index.js';
