/** Installs the napi backend; imported first by the Node entry. */
import { installBackend } from './backend.js';
import { loadNapiBackend } from './backend-napi.js';

installBackend(loadNapiBackend());
