// `node:test` in a page, for the seed examples (test/browser/seeds.html): the same
// test/before/after/beforeEach, run in order by `run()`, which answers each test's outcome.
const tests = [];
const hooks = { before: [], after: [], beforeEach: [] };

export function test(name, fn) {
  tests.push({ name, fn });
}
export const before = (fn) => hooks.before.push(fn);
export const after = (fn) => hooks.after.push(fn);
export const beforeEach = (fn) => hooks.beforeEach.push(fn);

export async function run() {
  const results = [];
  for (const h of hooks.before) await h();
  for (const t of tests) {
    try {
      for (const h of hooks.beforeEach) await h();
      await t.fn();
      results.push({ name: t.name, ok: true });
    } catch (e) {
      results.push({ name: t.name, ok: false, error: `${e?.name}: ${e?.message}` });
    }
  }
  for (const h of hooks.after) await h();
  return results;
}
