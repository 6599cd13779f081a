// The Worker that test/runtimes/workerd.mjs runs in workerd: `seawall` as a Workers bundle gets it
// (the `workerd` export condition: the whole engine's wasm imported as a module). GET /vectors
// runs every conformance vector and answers each one's trace (GET /ready: it is up); anything
// else goes to the example Worker (examples/workers/worker.js), whose upstream is a flaky server.
import * as seawall from 'seawall';

import example from '../../../examples/workers/worker.js';
import { backend } from '../../dist/esm/backend.js';
import { makeRunner, reachesMissingPart, traceOf } from '../conformance-runner.mjs';
import { vectors } from '../../../target/runtimes/workerd/vectors.gen.mjs';

function runVectors() {
  const { runVector } = makeRunner(backend());
  const out = {};
  for (const [name, v] of Object.entries(vectors)) {
    try {
      const outputs = runVector(v);
      out[name] = reachesMissingPart(outputs) ? { missing: true } : { trace: traceOf(outputs) };
    } catch (e) {
      out[name] = reachesMissingPart(e) ? { missing: true } : { error: e instanceof Error ? e.message : String(e) };
    }
  }
  return out;
}

export default {
  fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === '/ready') return new Response('ready');
    if (path === '/vectors') return Response.json({ backend: seawall.backendInfo(), results: runVectors() });
    return example.fetch(request, env);
  },
};
