// The shared conformance vectors (tests/vectors/, format in its README) through a backend: the
// napi addon here; the wasm runners reuse this file with another backend. Each step's output
// must equal the vector's `expect`, and the whole canonical trace must be byte-identical to
// the Rust runner's (target/conformance/rust/, written by `make test-core`).
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { canonical, LEFT_OUT, makeRunner, reachesMissingPart, traceOf } from './conformance-runner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const vectorsDir = join(root, 'tests', 'vectors');
const runnerName = process.env.SEAWALL_RUNNER ?? 'node-napi';
// The browser's lean module (test/lean-backend.mjs): the vectors it cannot run are exactly
// LEFT_OUT.lean's, each failing with NOT_IN_MODULE.
const lean = process.env.SEAWALL_LEAN === '1';

async function loadBackend() {
  if (process.env.SEAWALL_BACKEND_MODULE) {
    const m = await import(process.env.SEAWALL_BACKEND_MODULE);
    return m.loadBackend();
  }
  const { loadNapiBackend } = await import('../dist/esm/backend-napi.js');
  return loadNapiBackend();
}

const b = await loadBackend();
const { runVector } = makeRunner(b);

const files = readdirSync(vectorsDir).filter((f) => f.endsWith('.json')).sort();
const traceDir = join(root, 'target', 'conformance', runnerName);
mkdirSync(traceDir, { recursive: true });

test('at least 60 vectors', () => assert.ok(files.length >= 60, `found ${files.length}`));

for (const file of files) {
  const name = file.slice(0, -5);
  test(`vector ${name}`, () => {
    const v = JSON.parse(readFileSync(join(vectorsDir, file), 'utf8'));
    if (lean && name in LEFT_OUT.lean) {
      let reached;
      try {
        reached = reachesMissingPart(runVector(v));
      } catch (e) {
        reached = reachesMissingPart(e);
        if (!reached) throw e;
      }
      assert.ok(reached, `${name} runs whole in the lean module: take it out of LEFT_OUT.lean`);
      return;
    }
    const outputs = runVector(v);
    assert.ok(!lean || !reachesMissingPart(outputs), `${name} reaches a part the lean module leaves out (add it to LEFT_OUT.lean with that part, if that is right)`);
    const trace = traceOf(outputs);
    writeFileSync(join(traceDir, `${name}.trace.json`), trace);
    v.steps.forEach((step, i) => {
      assert.ok('expect' in step, `step ${i} has no expect`);
      assert.deepEqual(canonical(outputs[i]), canonical(step.expect), `step ${i} (${step.op})`);
    });
    const rust = join(root, 'target', 'conformance', 'rust', `${name}.trace.json`);
    assert.ok(existsSync(rust), `no Rust trace at ${rust}: run make test-core first`);
    assert.equal(trace, readFileSync(rust, 'utf8'), 'trace differs from the Rust runner byte for byte');
  });
}
