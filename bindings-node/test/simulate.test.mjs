// The policy simulator from JavaScript: the example scenario through the napi backend, bad
// fields named, and the browser build's clear refusal (it leaves the simulator out for size).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { backendName, simulate } from 'seawall';

// Node on the wasm fallback has no simulator (the wasm build leaves it out; tested below).
const native = { skip: backendName() === 'wasm' ? 'the wasm backend has no simulator' : false };

const example = readFileSync(new URL('../../examples/scenario.json', import.meta.url), 'utf8');

test('simulate runs every policy of the example scenario', native, () => {
  const r = simulate(JSON.parse(example));
  assert.deepEqual(r.policies.map((p) => p.name), ['naive immediate retries', 'backoff + jitter + breaker', '... + retry budget']);
  const [naive, breaker, budget] = r.policies;
  assert.ok(naive.summary.amplification > 5, `naive retries amplify: ${naive.summary.amplification}`);
  assert.ok(breaker.summary.amplification < 1, 'a breaker sheds load');
  assert.ok(budget.summary.budgetRefusals > 0, 'the budget refuses retries');
  assert.equal(naive.summary.requests, 200 * 70);
  assert.ok(naive.series.length > 30 && naive.series.every((b) => b.breakerOpenMs === 0), 'naive has no breaker');
  assert.ok(breaker.series.some((b) => b.breakerOpenMs > 0), 'the breaker opens in the outage');
  assert.deepEqual(simulate(example), r, 'text and object give the same result');
});

test('the browser (wasm) build leaves the simulator out and says so', () => {
  // In a child process: an entry point installs its backend for the whole shell.
  const code = "import('seawall/wasm').then((w) => { try { w.simulate('{}'); } catch (e) { console.log(e.message); } })";
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: new URL('..', import.meta.url), encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /not part of the wasm build/);
});

test('bad scenario fields are RangeError/TypeError naming the field', native, () => {
  const cases = [
    [{ backend: { errorRate: 1.5 }, policies: {} }, RangeError, 'backend.errorRate'],
    [{ clients: 'many', backend: {}, policies: {} }, TypeError, 'clients'],
    [{ backend: { outages: [[5, 1]] }, policies: {} }, TypeError, 'backend.outages[0]'],
    [{ backend: {}, policies: { p: { retry: { maxAttempts: 0 } } } }, RangeError, 'maxAttempts'],
    [{ backend: {} }, TypeError, 'policies'],
  ];
  for (const [scenario, cls, option] of cases) {
    assert.throws(() => simulate(scenario), (e) => e instanceof cls && e.option === option && e.code === 'INVALID_OPTION', JSON.stringify(scenario));
  }
});
