// Memory of the seeds' per-call form: 1,000,000 `withBackoff(fn, { ...inline options })` calls in
// a loop that only awaits microtasks (a batch job over in-memory work: finalizers never get to
// run there). Before issue 10 each call built a native policy and RSS grew without bound.
// Prints RSS after warm-up and at the end; exits 1 when it grew by more than 10 MB.
// Run: node --expose-gc bench/node/per-call-memory.mjs [calls]
const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));

const CALLS = Number(process.argv[2] ?? 1_000_000);
const WARM = Math.min(100_000, CALLS / 10);
const gc = globalThis.gc ?? (() => {});
const mb = (b) => (b / 2 ** 20).toFixed(1);
const work = async (attempt) => attempt;

let sum = 0;
let warm = 0;
for (let i = 0; i < CALLS; i++) {
  sum += await seawall.withBackoff(work, { maxRetries: 3, baseDelay: 1000, maxDelay: 4000, jitter: true });
  if (i + 1 === WARM) {
    gc();
    warm = process.memoryUsage().rss;
  }
}
gc();
const end = process.memoryUsage().rss;
console.log(`withBackoff per call, ${CALLS} calls (microtasks only): RSS ${mb(warm)} MB after ${WARM} → ${mb(end)} MB at the end (${end >= warm ? '+' : ''}${mb(end - warm)} MB)`);
if (sum !== CALLS) throw new Error('wrong results');
process.exit(end - warm > 10 * 2 ** 20 ? 1 : 0);
