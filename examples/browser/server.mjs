// Serves the example on 127.0.0.1 (the package's browser build and the flaky backend):
//   node examples/browser/server.mjs   then open the printed URL.
import { serve } from '../../bindings-node/test/browser/serve.mjs';
import { flakyApi } from './flaky.mjs';

const { url } = await serve(flakyApi);
console.log(`Seawall browser example: ${url}/examples/browser/`);
