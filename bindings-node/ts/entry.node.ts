/** `seawall` in Node: the napi backend under the shared shell. */
import './install-napi.js';

export * from './index.js';
