// CallSignal: the light signal the HTTP integrations hand the policies, read as an AbortSignal is.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';

const { CallSignal, realSignal } = await import('../dist/esm/cancel.js');

test('listeners run once, in order; one taken off while they run is not run; one added after the abort never runs', () => {
  const s = new CallSignal();
  const ran = [];
  const second = () => ran.push(2);
  s.addEventListener('abort', () => {
    ran.push(1);
    s.removeEventListener('abort', second);
    s.addEventListener('abort', () => ran.push('late'));
  });
  s.addEventListener('abort', second);
  const third = () => ran.push(3);
  s.addEventListener('abort', third);
  s.addEventListener('abort', third);
  const gone = () => ran.push('removed');
  s.addEventListener('abort', gone);
  s.removeEventListener('abort', gone);
  const reason = new Error('why');
  s.abort(reason);
  s.abort(new Error('again'));
  s.addEventListener('abort', () => ran.push('after'));
  assert.deepEqual([ran, s.aborted, s.reason], [[1, 3], true, reason]);
  assert.throws(() => s.throwIfAborted(), reason);
});

test('aborted without a reason: an AbortError, as AbortController gives', () => {
  const s = new CallSignal();
  s.abort();
  const c = new AbortController();
  c.abort();
  assert.deepEqual([s.reason.name, s.reason.constructor], [c.signal.reason.name, c.signal.reason.constructor]);
});

test('its real signal aborts with it, made before or after the abort', () => {
  const before = new CallSignal();
  const real = before.real;
  assert.ok(real instanceof AbortSignal && !real.aborted);
  before.abort('x');
  assert.deepEqual([real.aborted, real.reason], [true, 'x']);
  const after = new CallSignal();
  after.abort('y');
  assert.deepEqual([after.real.aborted, after.real.reason], [true, 'y']);
  assert.equal(realSignal(after), after.real);
  assert.equal(realSignal(real), real);
  assert.equal(realSignal(undefined), undefined);
});

test('follows a caller’s signal until unfollowed, leaving no listener on it', () => {
  const caller = new AbortController();
  const s = new CallSignal();
  s.follow(caller.signal);
  assert.equal(getEventListeners(caller.signal, 'abort').length, 1);
  s.unfollow();
  assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
  const t = new CallSignal();
  t.follow(caller.signal);
  caller.abort('gone');
  assert.deepEqual([t.aborted, t.reason, getEventListeners(caller.signal, 'abort').length], [true, 'gone', 0]);
  const u = new CallSignal();
  u.follow(caller.signal);
  assert.deepEqual([u.aborted, u.reason], [true, 'gone']);
});
