// Bad input: every invalid option is rejected with a TypeError (wrong type, unknown name) or a
// RangeError (out of range) that carries code INVALID_OPTION and names the option and value.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  Bulkhead,
  CircuitBreaker,
  createBulkhead,
  createCircuitBreaker,
  resilienceManager,
  RateLimiter,
  resilientFetch,
  RetryBudget,
  RetryPolicies,
  RetryPolicy,
  timeoutManager,
  VirtualClock,
  WithCircuitBreaker,
  WithResilience,
  WithTimeout,
  withBackoff,
  withTimeout,
  withVirtualClock,
} from 'seawall';

const cases = [
  // [description, thunk, error class, option, value]
  // A name that is not a string is an option error on every backend (on wasm it once reached the
  // glue as a string and corrupted the module's memory).
  ['breaker name a number', () => new CircuitBreaker({ name: 42 }), TypeError, 'name', '42'],
  ['bulkhead options given as the name', () => createBulkhead({ maxConcurrent: 1 }), TypeError, 'name', 'an object'],
  ['bulkhead name an array', () => new Bulkhead({ name: ['a'] }), TypeError, 'name', 'a list'],
  ['failureThreshold 0', () => new CircuitBreaker({ failureThreshold: 0 }), RangeError, 'failureThreshold', '0'],
  ['failureThreshold negative', () => new CircuitBreaker({ failureThreshold: -3 }), RangeError, 'failureThreshold', '-3'],
  ['failureThreshold fractional', () => new CircuitBreaker({ failureThreshold: 2.5 }), RangeError, 'failureThreshold', '2.5'],
  ['failureThreshold NaN', () => new CircuitBreaker({ failureThreshold: Number.NaN }), RangeError, 'failureThreshold', 'NaN'],
  ['failureThreshold string', () => new CircuitBreaker({ failureThreshold: '5' }), TypeError, 'failureThreshold', '"5"'],
  ['resetTimeout negative', () => new CircuitBreaker({ resetTimeout: -1 }), RangeError, 'resetTimeout', '-1'],
  ['resetTimeout Infinity', () => new CircuitBreaker({ resetTimeout: Number.POSITIVE_INFINITY }), RangeError, 'resetTimeout', 'Infinity'],
  ['recoveryTimeout zero', () => createCircuitBreaker('bad-recovery', { recoveryTimeout: 0 }), RangeError, 'recoveryTimeout', '0'],
  ['resetTimeout vs recoveryTimeout', () => new CircuitBreaker({ resetTimeout: 1000, recoveryTimeout: 2000 }), TypeError, 'recoveryTimeout', '2000'],
  ['failureRateThreshold above 1', () => new CircuitBreaker({ failureRateThreshold: 50 }), RangeError, 'failureRateThreshold', '50'],
  ['failureRateThreshold zero', () => new CircuitBreaker({ failureRateThreshold: 0 }), RangeError, 'failureRateThreshold', '0'],
  ['halfOpenRequests 0', () => new CircuitBreaker({ halfOpenRequests: 0 }), RangeError, 'halfOpenRequests', '0'],
  ['successThreshold 0', () => new CircuitBreaker({ successThreshold: 0 }), RangeError, 'successThreshold', '0'],
  ['volumeThreshold 0', () => new CircuitBreaker({ volumeThreshold: 0 }), RangeError, 'volumeThreshold', '0'],
  ['slow rate without duration', () => new CircuitBreaker({ slowCallRateThreshold: 0.3 }), TypeError, 'slowCallRateThreshold', '0.3'],
  ['requestTimeout negative', () => new CircuitBreaker({ requestTimeout: -5 }), RangeError, 'requestTimeout', '-5'],
  ['maxResetTimeout below resetTimeout', () => new CircuitBreaker({ resetTimeout: 1000, maxResetTimeout: 10 }), RangeError, 'maxResetTimeout', '10'],
  ['onOpen not a function', () => new CircuitBreaker({ onOpen: 'alert' }), TypeError, 'onOpen', '"alert"'],
  ['unknown breaker option', () => new CircuitBreaker({ failureTreshold: 5 }), TypeError, 'failureTreshold', null],
  ['maxAttempts 0', () => new RetryPolicy({ maxAttempts: 0 }), RangeError, 'maxAttempts', '0'],
  ['maxRetries negative', () => new RetryPolicy({ maxRetries: -1 }), RangeError, 'maxRetries', '-1'],
  ['maxRetries vs maxAttempts', () => new RetryPolicy({ maxAttempts: 3, maxRetries: 3 }), RangeError, 'maxRetries', '3'],
  ['baseDelay negative', () => new RetryPolicy({ baseDelay: -100 }), RangeError, 'baseDelay', '-100'],
  ['maxDelay below baseDelay', () => new RetryPolicy({ baseDelay: 1000, maxDelay: 10 }), RangeError, 'maxDelay', '10'],
  ['backoffMultiplier below 1', () => new RetryPolicy({ backoffMultiplier: 0.5 }), RangeError, 'backoffMultiplier', '0.5'],
  ['jitter unknown mode', () => new RetryPolicy({ jitter: 'wobbly' }), RangeError, 'jitter', '"wobbly"'],
  ['jitterFactor above 1', () => new RetryPolicy({ jitterFactor: 2 }), RangeError, 'jitterFactor', '2'],
  ['backoff unknown', () => new RetryPolicy({ backoff: 'fibonacci' }), RangeError, 'backoff', '"fibonacci"'],
  ['retryableErrors a string', () => new RetryPolicy({ retryableErrors: '503' }), TypeError, 'retryableErrors', '"503"'],
  ['onRetry not a function', () => new RetryPolicy({ onRetry: 42 }), TypeError, 'onRetry', '42'],
  ['initialDelay vs baseDelay', () => new RetryPolicy({ initialDelay: 100, baseDelay: 200 }), TypeError, 'baseDelay', '200'],
  ['unknown retry option', () => new RetryPolicy({ maxAttemps: 3 }), TypeError, 'maxAttemps', null],
  ['maxConcurrent 0', () => new Bulkhead({ maxConcurrent: 0 }), RangeError, 'maxConcurrent', '0'],
  ['maxConcurrent fractional', () => createBulkhead('bad-bh', 1.5), RangeError, 'maxConcurrent', '1.5'],
  ['maxQueueSize negative', () => createBulkhead('bad-bh2', 2, -1), RangeError, 'maxQueueSize', '-1'],
  ['queue timeout zero', () => new Bulkhead({ timeout: 0 }), RangeError, 'timeout', '0'],
  ['budget ratio negative', () => new RetryBudget({ ratio: -0.1 }), RangeError, 'ratio', '-0.1'],
  ['budget maxTokens below 1', () => new RetryBudget({ maxTokens: 0.5 }), RangeError, 'maxTokens', '0.5'],
  ['timeoutManager timeout 0', () => timeoutManager.register('bad', { timeout: 0 }), RangeError, 'timeout', '0'],
  // The options argument itself, and the numbers given to a retry preset (named as the preset's
  // parameters; their ranges are the options' own, checked when the preset is made).
  ['breaker options a string', () => new CircuitBreaker('bad-opts', 'fast'), TypeError, 'options', '"fast"'],
  ['registry options a number', () => createCircuitBreaker('bad-opts-2', 5), TypeError, 'options', '5'],
  ['fixed preset attempts a string', () => RetryPolicies.fixed('3'), TypeError, 'attempts', '"3"'],
  ['fixed preset delay true', () => RetryPolicies.fixed(3, true), TypeError, 'delay', 'true'],
  ['exponential preset initial a string', () => RetryPolicies.exponential(3, 'a'), TypeError, 'initial', '"a"'],
  ['exponential preset attempts NaN', () => RetryPolicies.exponential(Number.NaN), RangeError, 'attempts', 'NaN'],
  ['exponential preset max Infinity', () => RetryPolicies.exponential(3, 100, Number.POSITIVE_INFINITY), RangeError, 'max', 'Infinity'],
  ['exponential preset attempts negative', () => RetryPolicies.exponential(-3), RangeError, 'maxAttempts', '-3'],
  ['fixed preset delay negative', () => RetryPolicies.fixed(3, -5), RangeError, 'baseDelay', '-5'],
  ['retry policy options a string', () => new RetryPolicy('fast'), TypeError, 'options', '"fast"'],
  ['bulkhead options a list', () => new Bulkhead([1]), TypeError, 'options', 'a list'],
  ['rate limiter options a string', () => new RateLimiter('rl-bad', 'fast'), TypeError, 'options', '"fast"'],
  ['budget options a number', () => new RetryBudget(5), TypeError, 'options', '5'],
  ['timeoutManager options a string', () => timeoutManager.register('bad-t', 'soon'), TypeError, 'options', '"soon"'],
  ['virtual clock options a string', () => new VirtualClock('now'), TypeError, 'options', '"now"'],
  ['virtual clock start a string', () => new VirtualClock({ start: 'x' }), TypeError, 'start', '"x"'],
  ['virtual clock start NaN', () => new VirtualClock({ start: Number.NaN }), RangeError, 'start', 'NaN'],
  ['virtual clock autoAdvance a string', () => new VirtualClock({ autoAdvance: 'yes' }), TypeError, 'autoAdvance', '"yes"'],
  // A listener that is not a function is refused when given, not when its event fires.
  ['event listener a string', () => new CircuitBreaker().on('open', 'alert'), TypeError, 'listener', '"alert"'],
  ['listener missing', () => new Bulkhead().on('rejected'), TypeError, 'listener', 'null'],
  // Decorators check their arguments when applied (as the class is defined).
  ['WithTimeout a string', () => WithTimeout('soon'), TypeError, 'timeout', '"soon"'],
  ['WithTimeout zero', () => WithTimeout(0), RangeError, 'timeout', '0'],
  ['WithResilience name a number', () => WithResilience(5), TypeError, 'name', '5'],
  ['WithCircuitBreaker options a string', () => WithCircuitBreaker('deco', 'fast'), TypeError, 'options', '"fast"'],
];

test(`${cases.length} invalid options (at least 30) each raise a typed error naming the option`, () => {
  assert.ok(cases.length >= 30);
});

for (const [description, thunk, ErrorClass, option, value] of cases) {
  test(`invalid: ${description}`, () => {
    assert.throws(thunk, (e) => {
      assert.ok(e instanceof ErrorClass, `${e?.constructor?.name}: ${e?.message}`);
      assert.equal(e.code, 'INVALID_OPTION');
      assert.equal(e.option, option);
      assert.equal(e.value, value);
      assert.ok(e.message.includes(option), e.message);
      return true;
    });
  });
}

test('a bad preset fails every time, a good one still works after it, and null means "not given"', () => {
  for (let i = 0; i < 3; i++) assert.throws(() => RetryPolicies.exponential(3, 'a'), (e) => e.option === 'initial');
  assert.deepEqual(RetryPolicies.exponential(5, 100, 30000), { maxAttempts: 5, backoff: 'exponential', baseDelay: 100, maxDelay: 30000, backoffMultiplier: 2, jitter: true });
  assert.deepEqual(RetryPolicies.fixed(2, null), RetryPolicies.fixed(2));
  assert.deepEqual(RetryPolicies.exponential(null, null, null), RetryPolicies.exponential());
});

test('async entry points reject (not throw) with the same errors', async () => {
  await assert.rejects(withBackoff(async () => 1, { maxAttempts: -1 }), RangeError);
  await assert.rejects(withTimeout(async () => 1, -5), (e) => e instanceof RangeError && e.option === 'timeout');
  // Anything but an options object is the timeout, checked and named by the core like a number.
  await assert.rejects(withTimeout(async () => 1, 'soon'), (e) => e instanceof TypeError && e.option === 'timeout' && e.value === '"soon"');
  await assert.rejects(withTimeout(async () => 1, null), (e) => e instanceof TypeError && e.option === 'timeout');
  const isOptions = (e) => e instanceof TypeError && e.option === 'options' && e.value === '"fast"';
  await assert.rejects(resilientFetch('http://127.0.0.1:9/', {}, undefined, 'fast'), isOptions);
  await assert.rejects(resilienceManager.execute('bad-policy-arg', async () => 1, 'fast'), isOptions);
  await assert.rejects(withVirtualClock('not a function'), (e) => e instanceof TypeError && e.option === 'fn');
  // null is "no options", as undefined is.
  assert.equal(await new RetryPolicy(null).execute(async () => 7), 7);
  assert.equal(await resilienceManager.execute('null-policy', async () => 8, null), 8);
  assert.equal(new VirtualClock({ start: null }).now(), 0);
  await assert.rejects(resilienceManager.execute('bad-policy', async () => 1, { retry: { maxAttempts: 0 } }), (e) => e instanceof RangeError && e.option === 'retry.maxAttempts');
});
