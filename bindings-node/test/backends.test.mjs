// The two engine backends of the npm package answer alike: every method of the `Backend`
// interface, called with the same arguments on the napi addon and on the wasm module (whose
// narrow surface lays arguments out by a table in backend-wasm.ts), gives the same answer or the
// same error. A wrong row of that table (an argument in the wrong slot, an answer read the wrong
// way) shows here as a difference, whatever the shell's tests happen to call.
import assert from 'node:assert/strict';
import { test } from 'node:test';

const { loadWasmNode } = await import('../dist/esm/load-wasm-node.js');
let napi;
let napiError;
try {
  napi = (await import('../dist/esm/backend-napi.js')).loadNapiBackend();
} catch (e) {
  napiError = e;
}

/** Records every method the script calls, and each answer (errors as their messages). */
function recorder(b) {
  const called = new Set();
  const answers = [];
  const call = (name, ...args) => {
    called.add(name);
    try {
      const v = b[name](...args);
      answers.push([name, v instanceof Float64Array ? Array.from(v) : v]);
      return v;
    } catch (e) {
      answers.push([name, { error: String(e.message) }]);
      return undefined;
    }
  };
  // The hot paths answer second values in `out` (the breaker's acquire: the retry-after and
  // whether events wait; the bulkhead's: its second value; a record: none, its answer says all).
  const SECOND = { breakerAcquire: 3, bulkheadAcquire: 2, bulkheadRelease: 2, breakerRecord: 1, hedgeBegin: 2 };
  const hot = (name, ...args) => {
    const v = call(name, ...args);
    answers.push([`${name}.out`, Array.from(b.out.subarray(0, SECOND[name]))]);
    return v;
  };
  return { called, answers, call, hot };
}

function script(b) {
  const { called, answers, call, hot } = recorder(b);
  for (const name of ['errorCodes', 'stateNames', 'giveUpReasons', 'giveUpCodes', 'defaultsJson', 'telemetryEvents', 'telemetryInstruments', 'preapprovedPermit', 'unconditionalAdmits']) call(name);
  called.add('now');
  assert.equal(typeof b.now(), 'number');

  // Breakers.
  const h = call('breakerCreate', '{"failureThreshold":2,"timeout":1000}', false, 'diff-a');
  call('breakerCreate', '{"failureThreshold":0}', false, null);
  const anon = call('breakerCreate', '{"failure_threshold":3,"recovery_timeout":2}', true, null);
  call('breakerGetOrCreate', 'diff-b', '{"failureThreshold":3}', false);
  call('breakerGetOrCreate', 'diff-b', '{"failureThreshold":3}', false);
  call('breakerGetOrCreate', 'diff-c', '{"failureThreshold":-1}', false);
  call('breakerLookup', 'diff-a');
  call('breakerLookup', 'nobody');
  call('breakerName', h);
  call('breakerName', anon);
  call('breakerInertSuccessStates', h);
  call('breakerRecordSuccesses', h, 3, 5);
  const p1 = hot('breakerAcquire', h, 10);
  hot('breakerRecord', h, p1, 1, 20, 10);
  const p2 = hot('breakerAcquire', h, 21);
  hot('breakerRecord', h, p2, 1, 22, 21);
  hot('breakerAcquire', h, 23);
  call('breakerEvents', h);
  call('breakerState', h, 30);
  call('breakerCurrentState', h);
  call('breakerRetryAfter', h, 40);
  call('breakerNextTimeout', h);
  call('breakerProbeLease', h, 40);
  call('rejectionMessage', 'svc', -2, 1500);
  call('rejectionMessage', 'svc', -4, Number.NaN);
  call('breakerStats', h, 50);
  call('breakerConfig', h);
  const snapshot = call('breakerSnapshot', h, 60);
  call('breakerCommand', h, 'reset', 70);
  call('breakerCommand', h, 'bogus', 70);
  call('breakerRestore', h, snapshot, 80);
  call('breakerRestore', h, '{"version":', 80);
  call('breakerFleetReport', h, 90);
  call('breakerFleetSync', h, '[]', 90);
  const f = call('breakerCreate', '{"failureThreshold":2,"fleet":{"redis":"<object>","minReplicas":2}}', false, 'diff-fleet');
  const report = call('breakerFleetReport', f, 100);
  call('breakerFleetSync', f, JSON.stringify([`1|${report}`]), 100);
  call('breakerFleetSync', f, 'not json', 100);
  // The fleet's sync driver: a whole round against scripted replies, and its misuses.
  call('breakerSyncNext', f, 100);
  call('breakerSyncJoin', h, 'seawall', 'r1');
  call('breakerSyncJoin', f, 'seawall', 'r1');
  call('breakerSyncWanted', f);
  call('breakerSyncNext', f, 100);
  call('breakerSyncReply', f, JSON.stringify([100, ['0|{"calls":1,"failures":1,"slow":0,"consecutiveFailures":1}'], ['opened', '90']]), 100);
  call('breakerSyncNext', f, 100);
  call('breakerSyncReply', f, '"not a sync reply"', 101);
  call('breakerSyncStatus', f);
  call('breakerSyncNext', f, 1200);
  call('breakerSyncFailed', f, 1200);
  call('breakerSyncStatus', f);
  call('breakerSyncNext', f, 1300);
  call('breakerSyncReply', f, 'not json', 1300);
  call('breakerSyncLeave', f);
  call('breakerSyncLeave', f);
  call('breakerSyncStatus', f);
  call('breakerDrop', anon);
  call('breakerDrop', anon);

  // Bulkheads.
  const bh = call('bulkheadCreate', '{"maxConcurrent":1,"maxQueueSize":1,"queueTimeout":100}', false, 'diff-bh');
  call('bulkheadCreate', '{"maxConcurrent":0}', false, null);
  call('bulkheadGetOrCreate', 'diff-bh2', '{"max_concurrent":2}', true);
  call('bulkheadLookup', 'diff-bh');
  const run = hot('bulkheadAcquire', bh, 0);
  const running = b.out[1];
  hot('bulkheadAcquire', bh, 1);
  const queued = b.out[1];
  hot('bulkheadAcquire', bh, 2);
  call('bulkheadNextTimeout', bh);
  call('bulkheadCancel', bh, queued);
  hot('bulkheadAcquire', bh, 3);
  call('bulkheadExpire', bh, 500);
  hot('bulkheadRelease', bh, run === 0 ? running : Number.NaN, 600);
  call('bulkheadMetrics', bh);
  call('bulkheadDrop', bh);

  // Retries, backoff, budgets.
  const policy = call('retryPolicyCreate', '{"maxAttempts":3,"retryableErrors":["ECONNRESET"],"backoff":"exponential","baseDelay":100}', false, 42);
  call('retryPolicyCreate', '{"maxAttempts":0}', false, 42);
  call('retryPolicyInfo', policy);
  call('retryIsRetryable', policy, ['ECONNRESET', 'Error']);
  call('retryIsRetryable', policy, ['Error', 'with "quotes" and ü']);
  const c = call('retryStart', policy, 0);
  call('retryStart', 9999, 0);
  call('retryOnFailure', c, 10, 0, Number.NaN, -1);
  call('retryOnFailure', c, 20, 1, 2500, -1);
  call('retryOnFailure', c, 30, 0, Number.NaN, -1);
  call('retryEnd', c);
  call('retryEnd', c);
  call('retryPolicyDrop', policy);
  const bo = call('backoffCreate', '{"backoff":"decorrelated","baseDelay":100,"maxDelay":5000}', false, 7);
  call('backoffCreate', '{"backoff":"sideways"}', false, 7);
  call('backoffNext', bo, 1);
  call('backoffNext', bo, 6);
  call('backoffRestart', bo);
  call('backoffNext', bo, 1);
  call('backoffDrop', bo);
  const budget = call('budgetCreate', '{"ratio":0.5,"minRetriesPerSecond":1}', false, 0);
  call('budgetCreate', '{"ratio":2}', false, 0);
  call('budgetRecordSuccess', budget, 1);
  call('budgetTryWithdraw', budget, 2);
  call('budgetTokens', budget, 3);
  call('budgetStats', budget, 4);
  call('budgetFleetReport', budget, 5);
  call('budgetFleetSync', budget, 1.5, '[]', 6);
  call('budgetFleetAlone', budget, 7);
  const fleetBudget = call('budgetCreate', '{"name":"diff-budget","fleet":{"redis":"<object>"}}', false, 0);
  call('budgetFleetReport', fleetBudget, 5);
  call('budgetFleetSync', fleetBudget, 0.5, '[]', 6);
  call('budgetStats', fleetBudget, 7);
  call('budgetFleetAlone', fleetBudget, 8);
  call('budgetDrop', budget);

  // Rate limiters.
  const rl = call('rateLimitCreate', '{"limit":2,"per":1000,"maxWait":500}', false);
  call('rateLimitCreate', '{"limit":-1}', false);
  call('rateLimitAcquire', rl, 0);
  call('rateLimitAcquire', rl, 0);
  const waiting = call('rateLimitAcquire', rl, 0);
  call('rateLimitCancel', rl, waiting?.[1]);
  call('rateLimitAcquire', rl, 0);
  call('rateLimitStats', rl, 10);
  call('rateLimitFleetReport', rl, 10);
  call('rateLimitFleetSync', rl, 1, '[]', 10);
  call('rateLimitFleetAlone', rl);
  // Hedging: a call whose primary is slow gets a hedge that wins; a call that fails for good; misuse.
  const hp = call('hedgePolicyCreate', '{"delay":50,"maxAttempts":3,"retryableErrors":["ECONNRESET"]}', false, 0);
  call('hedgePolicyCreate', '{"delay":-1}', false, 0);
  call('hedgeIsRetryable', hp, ['ECONNRESET']);
  call('hedgeIsRetryable', hp, ['EOTHER']);
  call('hedgeable', 'POST', false);
  call('hedgeable', 'get', false);
  const hc = hot('hedgeBegin', hp, 0);
  call('hedgeStep', hc, 50);
  call('hedgeSettle', hc, 1, 0, 60);
  call('hedgeSettle', hc, 0, 0, 61);
  const hd = call('hedgeStart', hp, 100);
  call('hedgeStep', hd, 100);
  call('hedgeSettle', hd, 0, 2, 101);
  const he = call('hedgeStart', hp, 200);
  call('hedgeSettle', he, 5, 0, 201);
  call('hedgeSettle', he, 0, 9, 201);
  // Calls begun lazily: handed over (odd times and a negative delay refused), and a machine.
  call('hedgeSync', hp, 3, 1, 50, new Float64Array([300, 310.5, 301, 400]), 420);
  call('hedgeSync', hp, 0, 0, 50, new Float64Array([1]), 420);
  call('hedgeSync', hp, 0, 0, -1, new Float64Array(0), 420);
  call('hedgeDelay', hp, 420);
  const hf = call('hedgeStartBegun', hp, 410, 50);
  call('hedgeStep', hf, 460);
  call('hedgeStartBegun', hp, 410, Number.NaN);
  call('hedgeEnd', he);
  call('hedgeEnd', he);
  call('hedgeStats', hp, 300);
  call('hedgePolicyDrop', hp);
  call('hedgeStats', hp, 300);
  // Adaptive limits: partitions, a call admitted and ended, a refusal, misuse.
  const al = call('adaptiveCreate', '{"algorithm":"aimd","initialLimit":2,"minLimit":1,"windowSize":1,"partitions":{"live":0.5}}', false, 1);
  call('adaptiveCreate', '{"algorithm":"bbr"}', false, 1);
  const live = call('adaptivePartition', al, 'live');
  call('adaptivePartition', al, 'nope');
  const ap = call('adaptiveAcquire', al, live, 0);
  call('adaptiveAcquire', al, -1, 0);
  call('adaptiveAcquire', al, -1, 0);
  call('adaptiveRelease', al, ap, 0, 5);
  call('adaptiveRelease', al, ap, 0, 6);
  call('adaptiveStats', al);
  call('adaptiveRetryAfter', al, 7);
  call('adaptiveMessage', 'api', 1500);
  call('limitOutcome', 503);
  call('limitOutcome', 500);
  call('adaptiveDrop', al);
  const frl = call('rateLimitCreate', '{"name":"diff-rl","limit":10,"fleet":{"redis":"<object>"}}', false);
  call('rateLimitFleetReport', frl, 10);
  call('rateLimitFleetSync', frl, 4, '[]', 10);
  call('rateLimitStats', frl, 11);
  call('rateLimitFleetAlone', frl);
  // The quota sync driver: a round against a scripted reply, its misuses, and leaving.
  const store = JSON.stringify({ prefix: 'seawall', name: 'diff-rl', replica: 'r1' });
  call('quotaSyncJoin', 'rateLimit', rl, store);
  call('quotaSyncJoin', 'nothing', frl, store);
  call('quotaSyncJoin', 'rateLimit', frl, '{"prefix":"seawall"}');
  call('quotaSyncJoin', 'rateLimit', frl, store);
  call('quotaSyncJoin', 'budget', fleetBudget, JSON.stringify({ prefix: 'seawall', name: 'diff-budget', replica: 'r1' }));
  call('quotaSyncNext', 'rateLimit', frl, 20);
  call('quotaSyncReply', 'rateLimit', frl, JSON.stringify(['4', ['0|{"demand":3}']]), 20);
  call('quotaSyncNext', 'rateLimit', frl, 20);
  call('quotaSyncReply', 'rateLimit', frl, '[1]', 20);
  call('quotaSyncNext', 'budget', fleetBudget, 20);
  call('quotaSyncFailed', 'budget', fleetBudget, 21);
  call('quotaSyncStatus', 'budget', fleetBudget);
  call('quotaSyncStatus', 'rateLimit', frl);
  call('rateLimitStats', frl, 22);
  call('quotaSyncLeave', 'rateLimit', frl, 23);
  call('quotaSyncStatus', 'rateLimit', frl);
  call('rateLimitMessage', 'svc', 1500);
  call('rateLimitDrop', rl);
  call('fleetStore', 'seawall', 'diff "a"');

  // Registry, health, metrics, presets, helpers.
  call('recordRetryAttempt', 'diff-a');
  call('recordTimeout', 'diff-a');
  call('health', 100);
  call('breakerHealth', 100);
  call('breakerNames');
  call('prometheus');
  call('gaugeSamples');
  call('resetAll', 100);
  call('breakerHealth', 100);
  call('clearRegistry');
  call('breakerNames');
  call('presetPolicy', 'api', false);
  call('presetPolicy', 'nope', true);
  call('presetCircuit', 'api', true);
  call('presetRetry', 'exponential', 5, 100, 30000, false);
  call('presetRetry', 'fixed', 3, 1, Number.NaN, true);
  call('validate', 'breaker', '{"failureThreshold":0}', false);
  call('validate', 'timeout', '{"timeout":5}', false);
  call('deadline', 10, 5, Number.NaN);
  call('deadline', 10, 5, 12);
  call('retryAfter', '120', 0);
  call('retryAfter', 'Wed, 21 Oct 2015 07:28:00 GMT', 1445412400000);
  call('retryAfter', 'soon', 0);
  call('headerMs', ' 50.5 ');
  call('headerMs', '0x10');
  call('shedAnswer', 'api', 2500);
  call('shedAnswer', null, Number.NaN);
  call('classifyOutcome', JSON.stringify({ status: 503, method: 'POST', headers: { 'retry-after-ms': '40' } }), 0);
  call('classifyOutcome', JSON.stringify({ error: true, codes: ['ECONNREFUSED'], method: 'POST' }), 0);
  call('classifyOutcome', '{"status":"x"}', 0);
  call('countStatus', 429);
  call('countStatus', 404);
  call('rngFloats', 42, 3);
  // The script's objects were made (a typo in its options would make later calls trivial).
  for (const [what, handle] of Object.entries({ h, anon, f, bh, policy, c, bo, budget, fleetBudget, rl, frl, hp, hc, hd, he, al })) assert.equal(typeof handle, 'number', what);
  return { called, answers };
}

test('napi and wasm answer every backend method alike', { skip: napiError && `no addon here (${napiError.message})` }, () => {
  const wasm = loadWasmNode();
  const a = script(napi);
  const w = script(wasm);
  // Every method of the interface was called (but the simulator, which the wasm build leaves out).
  const methods = Object.keys(wasm).filter((k) => k !== 'kind' && k !== 'out');
  assert.deepEqual(methods.filter((m) => !w.called.has(m)), []);
  assert.equal(napi.simulate !== undefined && wasm.simulate === undefined, true);
  assert.equal(a.answers.length, w.answers.length);
  for (let i = 0; i < a.answers.length; i++) assert.deepEqual(w.answers[i], a.answers[i], `call ${i}: ${a.answers[i][0]}`);
});
