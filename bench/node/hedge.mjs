// What hedging costs per call when the primary answers before the hedge delay (the common
// case), against a plain retry policy's call of the same function, measured in turn within each
// round; the median of the rounds' per-call costs. Beside them, the floors: a retry call that
// also reads the clock once (a hedged call must know when it began, to start the next attempt a
// delay later; a retry call reads no clock until an attempt fails), the core asked twice (what
// a call begun with its machine costs: begun, its primary settled) and an AbortSignal made (what
// a function taking its attempt's signal is given). Not a test: it prints a table. Run: make
// bench-hedge.
const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));
const { backend } = await import(new URL('../../bindings-node/dist/esm/backend.js', import.meta.url));

const N = Number(process.env.BENCH_N ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const work = async () => 1;
const withSignal = async (_attempt, _signal) => 1;
const policy = new seawall.HedgePolicy({ delay: 50, maxAttempts: 2 });
const retry = new seawall.RetryPolicy({ maxAttempts: 2 });
const b = backend();
const h = b.hedgePolicyCreate('{"delay":50}', false, undefined);

const cases = [
  ['bare call', () => work()],
  ['RetryPolicy.execute (maxAttempts 2)', () => retry.execute(work)],
  ['floor: a retry call and a clock read', () => (b.now(), retry.execute(work))],
  ['the core asked twice (begin, settle)', () => b.hedgeSettle(b.hedgeBegin(h, undefined), 0, 0, undefined)],
  ['floor: an AbortSignal made', () => new AbortController().signal],
  ['HedgePolicy.execute, primary answers first', () => policy.execute(work)],
  ['  the same, fn taking its signal', () => policy.execute(withSignal)],
  ['hedge(fn, { delay: 50 }) inline options', () => seawall.hedge(work, { delay: 50 })],
];
const per = new Map(cases.map(([name]) => [name, []]));
for (let r = 0; r < ROUNDS + 1; r++) {
  for (const [name, fn] of cases) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await fn();
    if (r > 0) per.get(name).push(Number(process.hrtime.bigint() - t) / N);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const retryNs = median(per.get(cases[1][0]));
console.log(`node ${process.version}, ${N} calls x ${ROUNDS} rounds (median ns per call)`);
for (const [name] of cases) {
  const ns = median(per.get(name));
  console.log(`${name.padEnd(48)} ${ns.toFixed(0).padStart(6)} ns  ${(ns / retryNs).toFixed(2)}x retry`);
}
if (policy.getStats().hedges !== 0) throw new Error(`expected no hedges, got ${policy.getStats().hedges}`);
