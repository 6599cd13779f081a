// `node:assert/strict` in a page: the functions the seed examples use, with strict semantics
// (Object.is for equal; deepEqual compares prototypes, own keys and values recursively).
export class AssertionError extends Error {
  constructor(message) {
    super(message);
    this.name = 'AssertionError';
  }
}

const show = (v) => {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
};

function same(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof Map || a instanceof Set) return same([...a], [...b]);
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same(a[k], b[k]));
}

function fail(message) {
  throw message instanceof Error ? message : new AssertionError(message ?? 'Failed');
}
function ok(value, message) {
  if (!value) fail(message ?? `expected a truthy value, got ${show(value)}`);
}
function equal(actual, expected, message) {
  if (!Object.is(actual, expected)) fail(message ?? `${show(actual)} !== ${show(expected)}`);
}
function notEqual(actual, expected, message) {
  if (Object.is(actual, expected)) fail(message ?? `${show(actual)} === ${show(expected)}`);
}
function deepEqual(actual, expected, message) {
  if (!same(actual, expected)) fail(message ?? `${show(actual)} is not deeply equal to ${show(expected)}`);
}
function match(actual, re, message) {
  if (typeof actual !== 'string' || !re.test(actual)) fail(message ?? `${show(actual)} does not match ${re}`);
}
async function rejects(fn, expected, message) {
  try {
    await (typeof fn === 'function' ? fn() : fn);
  } catch (e) {
    if (typeof expected === 'function' && expected.prototype !== undefined && !(e instanceof expected)) fail(message ?? `rejected with ${e}`);
    return;
  }
  fail(message ?? 'expected a rejection');
}
function throws(fn, expected, message) {
  try {
    fn();
  } catch (e) {
    if (typeof expected === 'function' && expected.prototype !== undefined && !(e instanceof expected)) fail(message ?? `threw ${e}`);
    return;
  }
  fail(message ?? 'expected an exception');
}

const assert = Object.assign((value, message) => ok(value, message), {
  ok, equal, notEqual, deepEqual, strictEqual: equal, deepStrictEqual: deepEqual, match, fail, rejects, throws, AssertionError,
});
export default assert;
export { ok, equal, notEqual, deepEqual, match, fail, rejects, throws };
