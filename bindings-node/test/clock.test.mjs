// The host clock as programs run it: worker threads each have an engine of their own, but every
// thread reads one clock (one origin per process). A clock counted from each thread's first
// reading put a worker started later behind the main thread by the time between the two.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

import { backendName, realClock } from 'seawall';

// The wasm backend reads performance.now(), whose origin is each worker's own; each worker also
// has an engine of its own there, so no time crosses between threads.
const skip = backendName() === 'napi' ? false : 'the napi host clock only';

test('a worker thread started later reads the same clock as the main thread', { skip }, async () => {
  const before = realClock.now();
  // Let the main thread's clock run before the worker starts (bounded, and not a timing check:
  // only the order of two readings of one clock is asserted).
  await new Promise((resolve) => setTimeout(resolve, 100));
  const worker = new Worker(
    `import('seawall').then(({ realClock }) => require('node:worker_threads').parentPort.postMessage(realClock.now()));`,
    { eval: true },
  );
  try {
    const inWorker = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const after = realClock.now();
    assert.ok(inWorker >= before + 80, `the worker read ${inWorker} ms, the main thread ${before} ms before it started`);
    assert.ok(inWorker <= after, `${inWorker} > ${after}`);
  } finally {
    await worker.terminate();
  }
});

test('a breaker times its calls on the installed clock: under a virtual clock far from the host’s, fast calls are not slow and slow ones are', async () => {
  const { CircuitBreaker, useRealClock, useVirtualClock } = await import('seawall');
  const clock = useVirtualClock();
  try {
    // Ten days ahead of the host's clock: a start read from the host would make any call "slow".
    await clock.advance(864_000_000);
    const options = { failureThreshold: 100, slowCallDurationThreshold: 100, slowCallRateThreshold: 0.5, volumeThreshold: 2 };
    const fast = new CircuitBreaker(options);
    for (let i = 0; i < 4; i++) await fast.execute(async () => 'quick');
    assert.equal(fast.getState(), 'CLOSED');
    const slow = new CircuitBreaker(options);
    for (let i = 0; i < 2; i++) await slow.execute(() => clock.sleep(150));
    assert.equal(slow.getState(), 'OPEN');
  } finally {
    useRealClock();
  }
});

test('the virtual clock never goes back: a sleep that jumps ahead while `advance` runs keeps its time', async () => {
  const { useRealClock, useVirtualClock } = await import('seawall');
  const clock = useVirtualClock();
  try {
    let woke;
    // A timer due during the advance starts a 100 ms sleep, which jumps the auto-advancing clock.
    clock.setTimer(10, () => clock.sleep(100).then(() => (woke = clock.now())));
    await clock.advance(50);
    assert.equal(woke, 110);
    assert.equal(clock.now(), 110);
  } finally {
    useRealClock();
  }
});
