// What hedging costs per call when the primary answers before the hedge delay (the common
// case), against a plain retry policy's call of the same function, measured in turn within each
// round; the median of the rounds' per-call costs. Not a test: it prints a table. Run: make bench-hedge.
const seawall = await import(new URL('../../bindings-node/dist/esm/entry.node.js', import.meta.url));

const N = Number(process.env.BENCH_N ?? 200_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const work = async () => 1;
const policy = new seawall.HedgePolicy({ delay: 50, maxAttempts: 2 });
const retry = new seawall.RetryPolicy({ maxAttempts: 2 });

const cases = [
  ['bare call', () => work()],
  ['withBackoff(fn, { maxAttempts: 2 }) (a RetryPolicy)', () => retry.execute(work)],
  ['hedge: HedgePolicy.execute, primary answers first', () => policy.execute(work)],
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
  console.log(`${name.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns  ${(ns / retryNs).toFixed(2)}x retry`);
}
const s = policy.getStats();
if (s.hedges !== 0) throw new Error(`expected no hedges, got ${s.hedges}`);
