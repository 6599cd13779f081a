// Behaviour of the Node shell: cancellation, permits always given back, the virtual clock,
// persistence, budgets, error-code parity with the core, CommonJS, and no leaked timers.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  Bulkhead,
  BulkheadRejectedError,
  CircuitBreaker,
  CircuitBreakerError,
  ErrorCodes,
  circuitBreakerRegistry,
  createResilientFetch,
  prometheusMetrics,
  RetryBudget,
  RetryBudgetExhaustedError,
  TimeoutError,
  useRealClock,
  useVirtualClock,
  resilienceManager,
  withBackoff,
  withTimeout,
  withVirtualClock,
} from 'seawall';

/** The shell's ES modules as Deno and Bun load them, with their internals (Node's `import
 * 'seawall'` is the CommonJS bundle's, whose internals no file reaches). */
const esm = async () => ({ ...(await import('../dist/esm/entry.node.js')), ...(await import('../dist/esm/backend.js')) });

test('error codes are the core list, in order', async () => {
  const { backend } = await esm();
  assert.deepEqual(Object.values(ErrorCodes), backend().errorCodes());
  assert.deepEqual(backend().stateNames(), ['CLOSED', 'OPEN', 'HALF_OPEN', 'FORCED_OPEN', 'DISABLED']);
});

test('an AbortSignal cuts a retry sleep short (real clock)', async () => {
  useRealClock();
  const ac = new AbortController();
  const t = performance.now();
  setTimeout(() => ac.abort(new Error('stop')), 30);
  await assert.rejects(
    withBackoff(async () => {
      throw new Error('always');
    }, { maxAttempts: 5, baseDelay: 10_000, maxDelay: 10_000, signal: ac.signal }),
    /stop/,
  );
  assert.ok(performance.now() - t < 2000, 'aborted promptly');
});

test('withBackoff with a signal: one aborted already runs nothing; an abort during the first attempt ends the call with its error; otherwise the first failure is retried with the signal passed on', async () => {
  await withVirtualClock(async () => {
    let runs = 0;
    const gone = new AbortController();
    gone.abort(new Error('caller left'));
    await assert.rejects(withBackoff(() => ++runs, { maxAttempts: 3, signal: gone.signal }), /caller left/);
    assert.equal(runs, 0);

    const during = new AbortController();
    await assert.rejects(
      withBackoff(async () => {
        runs++;
        during.abort(new Error('left mid-way'));
        throw new Error('first attempt failed');
      }, { maxAttempts: 3, baseDelay: 1, signal: during.signal }),
      /first attempt failed/,
    );
    assert.equal(runs, 1, 'not retried once the caller left');

    const live = new AbortController();
    const seen = [];
    const answer = await withBackoff(async (attempt, signal) => {
      seen.push([attempt, signal === live.signal]);
      if (attempt < 2) throw new Error('flaky');
      return 'ok';
    }, { maxAttempts: 3, baseDelay: 1, jitter: false, signal: live.signal });
    assert.deepEqual([answer, seen], ['ok', [[1, true], [2, true]]]);
  });
});

test('the virtual clock runs retries and open periods instantly', async () => {
  await withVirtualClock(async (clock) => {
    const delays = [];
    let n = 0;
    const r = await withBackoff(async () => {
      if (++n < 4) throw new Error('flaky');
      return n;
    }, { maxAttempts: 4, baseDelay: 1000, jitter: false, onRetry: (_a, _e, d) => delays.push(d) });
    assert.equal(r, 4);
    assert.deepEqual(delays, [1000, 2000, 4000]);
    assert.equal(clock.now(), 7000);

    const cb = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 60_000 });
    await cb.execute(async () => { throw new Error('down'); }).catch(() => {});
    await assert.rejects(cb.execute(async () => 1), (e) => e instanceof CircuitBreakerError && e.retryAfter === 60_000);
    await clock.advance(60_000);
    assert.equal(await cb.execute(async () => 'probe ok'), 'probe ok');
    assert.equal(cb.getState(), 'CLOSED');
  });
});

test('breaker permits come back on throw, rejection, timeout and ignored outcomes', async () => {
  useRealClock();
  const cb = new CircuitBreaker({ failureThreshold: 100, timeout: 20, isFailure: (e) => !(e instanceof RangeError) });
  await cb.execute(() => { throw new Error('sync throw'); }).catch(() => {});
  await cb.execute(async () => { throw new Error('async'); }).catch(() => {});
  await cb.execute(async () => { throw new RangeError('not counted'); }).catch(() => {});
  await assert.rejects(cb.execute((signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason)))), TimeoutError);
  await cb.execute(async () => 'ok');
  const s = cb.getStats();
  assert.deepEqual([s.inFlight, s.failedCalls, s.ignoredCalls, s.successfulCalls], [0, 3, 1, 1]);
});

test('the common call (closed, no timeout, no predicate, no signal) counts every way it can end', async () => {
  useRealClock();
  const cb = new CircuitBreaker({ failureThreshold: 3 });
  assert.equal(await cb.execute(() => 'plain value'), 'plain value');
  assert.equal(await cb.execute(() => ({ then: (ok) => ok('thenable') })), 'thenable');
  const p = Promise.resolve('own promise');
  assert.equal(cb.execute(() => p), p, 'a promise is handed back as it is');
  await p;
  await assert.rejects(cb.execute(() => { throw new Error('sync'); }), /sync/);
  // A listener added later makes calls timed: the next calls report themselves.
  const calls = [];
  const off = cb.on('call', (e) => calls.push(e.success));
  await assert.rejects(cb.execute(async () => { throw new Error('async'); }), /async/);
  off();
  await assert.rejects(cb.execute(() => Promise.reject(new Error('third'))), /third/);
  assert.deepEqual(calls, [false]);
  assert.equal(cb.getState(), 'OPEN');
  const s = cb.getStats();
  assert.deepEqual([s.successfulCalls, s.failedCalls, s.inFlight], [3, 3, 0]);
  await assert.rejects(cb.execute(async () => 'refused'), CircuitBreakerError);
});

test('a half-open probe that throws synchronously gives its slot back', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const cb = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 100, halfOpenMaxCalls: 1, isFailure: () => false });
    cb.open();
    await clock.advance(100);
    await cb.execute(() => { throw new Error('ignored'); }).catch(() => {});
    assert.equal(cb.getStats().halfOpenInFlight, 0);
    assert.equal(await cb.execute(async () => 'next probe'), 'next probe');
  } finally {
    useRealClock();
  }
});

test('bulkhead slots come back on errors, queue timeouts and aborted waits', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const bh = new Bulkhead({ maxConcurrent: 1, maxQueueSize: 2, queueTimeout: 1000 });
    let release;
    const running = bh.execute(() => new Promise((r) => (release = r)));
    const ac = new AbortController();
    const aborted = bh.execute(async () => 'never', ac.signal);
    const timedOut = bh.execute(async () => 'never');
    await assert.rejects(bh.execute(async () => 'x'), (e) => e instanceof BulkheadRejectedError && e.code === 'BULKHEAD_QUEUE_FULL');
    ac.abort(new Error('gave up'));
    await assert.rejects(aborted, /gave up/);
    await clock.advance(1000);
    await assert.rejects(timedOut, (e) => e.code === 'BULKHEAD_QUEUE_TIMEOUT');
    release('done');
    assert.equal(await running, 'done');
    await assert.rejects(bh.execute(async () => { throw new Error('boom'); }), /boom/);
    const m = bh.getMetrics();
    assert.deepEqual([m.active, m.queued, m.completed, m.timedOut, m.cancelled, m.rejected], [0, 0, 2, 1, 1, 1]);
  } finally {
    useRealClock();
  }
});

test('breaker state survives a restart through toJSON/restore', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  try {
    const a = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 10_000 });
    for (let i = 0; i < 2; i++) await a.execute(async () => { throw new Error('x'); }).catch(() => {});
    await clock.advance(4000);
    const saved = JSON.stringify(a);
    const b = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 10_000 });
    b.restore(JSON.parse(saved));
    assert.equal(b.getState(), 'OPEN');
    assert.equal(b.getRemainingTimeout(), 6000);
    assert.equal(b.getStats().failedCalls, 2);
    assert.throws(() => b.restore({ version: 9 }), (e) => e.code === 'INVALID_SNAPSHOT');
  } finally {
    useRealClock();
  }
});

test('a shared retry budget stops a retry storm', async () => {
  await withVirtualClock(async () => {
    const budget = new RetryBudget({ maxTokens: 2, minRetriesPerSecond: 0 });
    let calls = 0;
    const failing = () => withBackoff(async () => { calls++; throw new Error('down'); }, { maxAttempts: 10, baseDelay: 1, budget });
    await assert.rejects(failing(), RetryBudgetExhaustedError);
    await assert.rejects(failing(), RetryBudgetExhaustedError);
    assert.equal(calls, 4, 'two calls plus the budget of two retries');
  });
});

test('Prometheus text carries seed 003 metric names', async () => {
  const cb = new CircuitBreaker('metrics-demo', { failureThreshold: 3 });
  await cb.execute(async () => 1);
  await cb.execute(async () => 2);
  const text = prometheusMetrics();
  assert.match(text, /circuit_breaker_calls_total\{name="metrics-demo",result="success"\} 2/);
  for (const name of ['circuit_breaker_state_changes_total', 'retry_attempts_total', 'timeout_operations_total', 'bulkhead_executions_total']) {
    assert.match(text, new RegExp(`# TYPE ${name} counter`));
  }
});

test('CommonJS require gets the same API', () => {
  const require = createRequire(import.meta.url);
  const cjs = require('seawall');
  assert.equal(typeof cjs.CircuitBreaker, 'function');
  assert.equal(typeof cjs.withBackoff, 'function');
  assert.equal(new cjs.CircuitBreaker({ failureThreshold: 2 }).getState(), 'CLOSED');
});

test('125k guarded calls (over 100k) leave no timer or listener behind: the process exits by itself', () => {
  const script = fileURLToPath(new URL('./fixtures/many-calls.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.signal, null, `killed: ${r.stderr}`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /125000 calls done/);
});

test("breaker.execute(fn, signal): the caller aborting counts neither way, with or without a timeout", async () => {
  for (const options of [{ failureThreshold: 1 }, { failureThreshold: 1, timeout: 60_000 }]) {
    const cb = new CircuitBreaker(options);
    const ac = new AbortController();
    const p = cb.execute((signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))), ac.signal);
    ac.abort(new Error('client went away'));
    await assert.rejects(p, /client went away/);
    await assert.rejects(cb.execute(() => 1, ac.signal), /client went away/, 'an aborted signal: not even started');
    const s = cb.getStats();
    assert.deepEqual([s.state, s.failedCalls, s.ignoredCalls, s.inFlight], ['CLOSED', 0, 1, 0]);
    // Its own timeout and other failures still count.
    await assert.rejects(cb.execute(() => Promise.reject(new Error('down')), new AbortController().signal), /down/);
    assert.equal(cb.getState(), 'OPEN');
  }
});

test('withBackoff with inline options: equal options compile one policy; bad options fail every call', async () => {
  const { backend, withBackoff } = await esm();
  const b = backend();
  let compiled = 0;
  const own = Object.hasOwn(b, 'retryPolicyCreate');
  const create = b.retryPolicyCreate;
  b.retryPolicyCreate = function (...args) {
    compiled++;
    return create.apply(this, args);
  };
  try {
    for (let i = 0; i < 1000; i++) {
      assert.equal(await withBackoff(async () => i, { maxRetries: 3, baseDelay: 1000, maxDelay: 4000, jitter: true }), i);
    }
    assert.equal(compiled, 1);
    // Different content, different policy; the same content again, no new one.
    await withBackoff(async () => 0, { maxRetries: 2, baseDelay: 1000, maxDelay: 4000, jitter: true });
    await withBackoff(async () => 0, { maxRetries: '2' }).catch(() => {});
    await withBackoff(async () => 0, { maxRetries: 2, baseDelay: 1000, maxDelay: 4000, jitter: true });
    assert.equal(compiled, 3);
    // Per-call hooks are the call's own, though the policy is shared.
    const seen = [];
    useVirtualClock();
    for (const tag of ['a', 'b']) {
      let n = 0;
      await withBackoff(async () => (++n < 2 ? Promise.reject(new Error('x')) : n), { maxRetries: 3, baseDelay: 10, onRetry: () => seen.push(tag) });
    }
    assert.deepEqual(seen, ['a', 'b']);
    for (let i = 0; i < 3; i++) {
      await assert.rejects(withBackoff(async () => 1, { maxRetries: -1 }), (e) => e instanceof RangeError && e.code === 'INVALID_OPTION' && e.option === 'maxRetries');
      await assert.rejects(withBackoff(async () => 1, { maxRetries: true }), (e) => e instanceof TypeError && e.option === 'maxRetries');
    }
  } finally {
    if (own) b.retryPolicyCreate = create;
    else delete b.retryPolicyCreate;
    useRealClock();
  }
});

test('import and require in one process are one shell: the same classes, one registry, one clock', async () => {
  // An ES module app with a CommonJS dependency that requires seawall (the dual-package hazard).
  const cjs = createRequire(import.meta.url)('seawall');
  assert.equal(cjs.CircuitBreaker, CircuitBreaker);
  // The clock one side installs is the other's.
  const clock = cjs.useVirtualClock({ autoAdvance: false });
  try {
    const cjsBreaker = new cjs.CircuitBreaker({ name: 'dual-cjs', failureThreshold: 1, resetTimeout: 60_000 });
    assert.ok(cjsBreaker instanceof CircuitBreaker);
    assert.equal(circuitBreakerRegistry.get('dual-cjs'), cjsBreaker);
    // An integration made on the ES side takes the CommonJS side's breaker, and its refusal is ours.
    const guarded = createResilientFetch({ circuitBreaker: cjsBreaker, maxAttempts: 1, fetch: () => Promise.reject(Object.assign(new Error('down'), { code: 'ECONNREFUSED' })) });
    await assert.rejects(guarded('http://127.0.0.1:1/'), /down/);
    await assert.rejects(guarded('http://127.0.0.1:1/'), (e) => e instanceof CircuitBreakerError && e instanceof cjs.CircuitBreakerError);
    await clock.advance(60_000);
    assert.equal(cjsBreaker.getState(), 'HALF_OPEN');
  } finally {
    useRealClock();
  }
});

test('a refusal keeps code, state, retryAfter, message and instanceof; its wording follows the seconds left; stacks on request', async () => {
  const clock = useVirtualClock();
  try {
    const cb = new CircuitBreaker('refusals', { failureThreshold: 1, resetTimeout: 10_000 });
    await cb.execute(() => Promise.reject(new Error('x'))).catch(() => {});
    const refusal = async () => cb.execute(() => 1).then(() => assert.fail('admitted'), (e) => e);
    const first = await refusal();
    assert.ok(first instanceof CircuitBreakerError && first instanceof Error);
    assert.deepEqual([first.code, first.state, first.retryAfter, first.name], ['CIRCUIT_OPEN', 'OPEN', 10_000, 'CircuitBreakerError']);
    assert.equal(first.message, "Circuit breaker 'refusals' is open; try again in 10 seconds");
    assert.equal(first.stack, `CircuitBreakerError: ${first.message}`);
    await clock.advance(1500);
    const later = await refusal();
    assert.deepEqual([later.retryAfter, later.message], [8500, "Circuit breaker 'refusals' is open; try again in 9 seconds"]);
    await clock.advance(100);
    assert.equal((await refusal()).message, later.message);
    cb.forceOpen();
    assert.equal((await refusal()).message, "Circuit breaker 'refusals' is forced open; calls are refused until it is reset");
    CircuitBreakerError.captureStackTraces = true;
    assert.match((await refusal()).stack, /\n\s+at /);
  } finally {
    CircuitBreakerError.captureStackTraces = false;
    useRealClock();
  }
});

test('a throwing state listener breaks no call and loses no permit; its error is reported after the call', () => {
  // In a child: the listener's error surfaces as an uncaught exception, which node:test would
  // count against this file.
  const code = `
    import('seawall').then(async (s) => {
      const reported = [];
      process.on('uncaughtException', (e) => reported.push(e.message));
      const clock = s.useVirtualClock();
      const cb = new s.CircuitBreaker({ failureThreshold: 1, resetTimeout: 1000, halfOpenMaxCalls: 1 });
      const seen = [];
      cb.on('stateChange', (e) => { throw new Error('listener bug on ' + e.currentState); });
      cb.on('stateChange', (e) => seen.push(e.currentState));
      const own = await cb.execute(() => { throw new RangeError('own'); }).catch((e) => e.message);
      await clock.advance(1000);
      const probe = await cb.execute(async () => 'ok');
      const after = await cb.execute(() => 2);
      await new Promise((r) => setImmediate(r));
      const st = cb.getStats();
      console.log(JSON.stringify({ own, probe, after, seen, reported, state: st.state, inFlight: st.inFlight, halfOpenInFlight: st.halfOpenInFlight }));
    });`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: new URL('..', import.meta.url), encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    own: 'own',
    probe: 'ok',
    after: 2,
    seen: ['OPEN', 'HALF_OPEN', 'CLOSED'],
    reported: ['listener bug on OPEN', 'listener bug on HALF_OPEN', 'listener bug on CLOSED'],
    state: 'CLOSED',
    inFlight: 0,
    halfOpenInFlight: 0,
  });
});

test('where no native addon loads, import and require run on wasm by themselves and say why', () => {
  const env = { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: '/nonexistent/seawall.node' };
  delete env.SEAWALL_BACKEND;
  const esm = "import('seawall').then(async (s) => { const cb = new s.CircuitBreaker({ failureThreshold: 1 }); await cb.execute(() => Promise.reject(new Error('x'))).catch(() => {}); console.log(JSON.stringify([s.backendInfo(), cb.getState()])); })";
  const cjs = "const s = require('seawall'); console.log(JSON.stringify([s.backendInfo(), new s.CircuitBreaker().getState()]));";
  for (const [flag, code, state] of [['--input-type=module', esm, 'OPEN'], ['--input-type=commonjs', cjs, 'CLOSED']]) {
    const r = spawnSync(process.execPath, [flag, '-e', code], { cwd: new URL('..', import.meta.url), env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const [info, got] = JSON.parse(r.stdout);
    assert.equal(info.name, 'wasm');
    assert.match(info.reason, /^the native addon did not load: /);
    assert.equal(got, state);
  }
  // Asked for the addon alone, the load error is the user's to see.
  const r = spawnSync(process.execPath, ['-e', "require('seawall')"], { cwd: new URL('..', import.meta.url), env: { ...env, SEAWALL_BACKEND: 'napi' }, encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /Cannot find native binding/);
});

test('the preset circuits join the registry and health when first used, not on import', () => {
  const code = `import('seawall').then(async (s) => {
    const before = [s.circuitBreakerRegistry.names(), s.resilienceManager.getHealthStatus().circuitBreakers.total];
    await s.stripeCircuit.execute(async () => 1);
    const after = [s.circuitBreakerRegistry.names(), s.resilienceManager.getHealthStatus().circuitBreakers.total];
    console.log(JSON.stringify([before, after]));
  })`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: new URL('..', import.meta.url), encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [[[], 0], [['stripe'], 1]]);
});

test('withBackoff asks the core about an error: 4xx statuses are not retried, 5xx and 429 are, retry-after-ms first', async () => {
  const clock = useVirtualClock();
  try {
    const failing = (status, headers) => {
      let calls = 0;
      const fn = async () => {
        calls++;
        throw Object.assign(new Error(`HTTP ${status}`), { status, headers });
      };
      return { fn, calls: () => calls };
    };
    const notFound = failing(404);
    await assert.rejects(withBackoff(notFound.fn, { maxAttempts: 3 }), /HTTP 404/);
    assert.equal(notFound.calls(), 1, 'a 404 is the request, not the dependency');
    const down = failing(502);
    await assert.rejects(withBackoff(down.fn, { maxAttempts: 3 }), /HTTP 502/);
    assert.equal(down.calls(), 3);
    const limited = failing(429, { 'retry-after-ms': '75', 'retry-after': '9' });
    const delays = [];
    await assert.rejects(withBackoff(limited.fn, { maxAttempts: 2, onRetry: (_a, _e, d) => delays.push(d) }), /HTTP 429/);
    assert.deepEqual(delays, [75]);
  } finally {
    useRealClock();
  }
});

test('a timed function of no parameters is given no signal and still cut at its deadline; one that can take it (a parameter, a rest, a default) gets a real AbortSignal, aborted then', async () => {
  await withVirtualClock(async (clock) => {
    const breaker = new CircuitBreaker({ failureThreshold: 100, timeout: 50 });
    const forever = () => new Promise(() => {});
    const given = [];
    const noParameters = function () {
      given.push(arguments[0]);
      return forever();
    };
    const signals = [];
    const takesSignal = (signal) => {
      signals.push(signal);
      return forever();
    };
    // Length 0, yet each can take the signal: a rest, a default, a wrapper passing its arguments on.
    const rest = (...args) => takesSignal(args[0]);
    const withDefault = async (signal = undefined) => takesSignal(signal);
    const bound = function (...args) {
      return takesSignal(args[0]);
    }.bind(null);
    const runs = [
      (fn) => withTimeout(fn, 50),
      (fn) => breaker.execute(fn),
      (fn) => resilienceManager.execute('timed-arity', fn, { timeout: 50 }),
    ];
    for (const run of runs) {
      for (const fn of [noParameters, takesSignal, rest, withDefault, bound]) {
        const call = run(fn);
        const failed = assert.rejects(call, (e) => e instanceof TimeoutError);
        await clock.advance(50);
        await failed;
      }
    }
    assert.deepEqual(given, [undefined, undefined, undefined]);
    assert.equal(signals.length, 12);
    for (const s of signals) assert.ok(s instanceof AbortSignal && s.aborted && s.reason instanceof TimeoutError);
  }, { autoAdvance: false });
});

test('resilienceManager.execute: a function that throws at once is a rejection, and the fallback answers it, with or without other policies', async () => {
  const boom = () => {
    throw new Error('at once');
  };
  const policies = [{}, { circuitBreaker: { failureThreshold: 100 } }, { retry: { maxAttempts: 1 }, timeout: 1000 }];
  for (const [i, policy] of policies.entries()) {
    let call;
    assert.doesNotThrow(() => (call = resilienceManager.execute(`throws-at-once-${i}`, boom, policy)));
    await assert.rejects(call, /at once/);
    assert.equal(await resilienceManager.execute(`throws-at-once-fb-${i}`, boom, { ...policy, fallback: (e) => `fallback: ${e.message}` }), 'fallback: at once');
  }
});

test('timeouts on the real clock: never early, each cut at its own deadline while others of the same duration end in time', async () => {
  const forever = () => new Promise(() => {});
  const started = performance.now();
  const calls = [];
  for (let i = 0; i < 6; i++) calls.push(withTimeout(i % 2 === 0 ? forever : async () => i, 40));
  const settled = await Promise.allSettled(calls);
  assert.deepEqual(
    settled.map((s) => s.status),
    ['rejected', 'fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled'],
  );
  for (const s of settled.filter((x) => x.status === 'rejected')) {
    assert.ok(s.reason instanceof TimeoutError && s.reason.duration >= 40, `${s.reason}: cut after ${s.reason.duration} ms`);
  }
  assert.ok(performance.now() - started >= 40);
});

test('a waiting deadline keeps the process alive until it cuts its call; one no longer waited for does not', () => {
  const run = (code) => spawnSync(process.execPath, ['--input-type=module', '-e', `import { withTimeout } from 'seawall';\n${code}`], { cwd: new URL('..', import.meta.url), encoding: 'utf8', timeout: 20_000 });
  const cut = run("await withTimeout(() => new Promise(() => {}), 200).catch((e) => console.log(e.name));");
  assert.equal(cut.status, 0, cut.stderr);
  assert.equal(cut.stdout.trim(), 'TimeoutError');
  // Its call answered at once, a one-minute deadline must not hold the process for the minute.
  const quick = run("console.log(await withTimeout(async () => 'answered', 60_000));");
  assert.equal(quick.signal, null, 'the process waited for a deadline no call needs');
  assert.equal(quick.stdout.trim(), 'answered');
});

test('withTimeout takes the caller’s signal: its abort ends the call at once with its reason, aborts the signal the function was given, and skips the fallback', async () => {
  const clock = useVirtualClock();
  try {
    const caller = new AbortController();
    let seen;
    const call = withTimeout(
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject((seen = signal.reason)))),
      { timeout: 10_000, signal: caller.signal, fallback: () => 'fallback' },
    );
    await clock.advance(20);
    caller.abort(new Error('caller left'));
    await assert.rejects(call, /caller left/);
    assert.equal(seen?.message, 'caller left');
    // Already aborted: the function never runs.
    let ran = false;
    await assert.rejects(withTimeout(async () => (ran = true), { timeout: 100, signal: caller.signal }), /caller left/);
    assert.equal(ran, false);
    // Not aborted: a timeout is a timeout, and its fallback answers.
    assert.equal(await withTimeout(() => clock.sleep(500), { timeout: 100, signal: new AbortController().signal, fallback: () => 'late' }), 'late');
    await assert.rejects(withTimeout(async () => 1, { timeout: 10, signal: 'x' }), (e) => e instanceof TypeError && e.code === 'INVALID_OPTION' && e.option === 'signal');
  } finally {
    useRealClock();
  }
});
