/** `seawall/wasm` in Node: the wasm backend instead of the napi addon (same shell, same API). */
import { installBackend } from './backend.js';
import { FLEET_DRIVERS } from './fleet.js';
import { installFleetDrivers } from './fleet-install.js';
import { installHedging, installInlineFetch } from './fetch.js';
import { fetchInline } from './inline.js';
import { HEDGING } from './hedge.js';
import { setDeadline } from './deadlines.js';
import { installDeadlines } from './timeout.js';
import { loadWasmNode } from './load-wasm-node.js';

installBackend(loadWasmNode());
installFleetDrivers(FLEET_DRIVERS);
installHedging(HEDGING);
installInlineFetch(fetchInline);
installDeadlines(setDeadline);

export * from './index.js';
