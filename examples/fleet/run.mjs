// `make demo`, step 4: a fleet. Two Node and two Python processes call one dependency twice a
// second each, through a breaker named 'demo-dependency' shared through a real redis-server
// (quorum 2, syncs every 250 ms). The dependency (a server on 127.0.0.1 that logs every request)
// dies at 2 s. From the server's log: the failed calls that reached it before every replica
// stopped (alone it would be 5 per replica), how long after the quorum's failures that took, and
// the probes per cooldown (alone: one per replica). Then the same four share one rate limit
// ('demo-quota', 40 a second) while each tries 50 a second: the server counts what reached it.
// Every child has a deadline; Redis is stopped by its pid.
//   node examples/fleet/run.mjs PYTHON
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { startRedis } from '../../bindings-node/test/fixtures/redis-server.mjs';
import { runChild } from '../child.mjs';
import { BREAKER, END_MS, FLEET, HEALTHY_UNTIL_MS, QUOTA } from './settings.mjs';

const [python = 'python3'] = process.argv.slice(2);
const here = fileURLToPath(new URL('.', import.meta.url));

const redis = await startRedis();
// Each stage has its time 0, a bit ahead of now (the replicas need a moment to start: Python
// imports), its answers and its log.
const stage = (healthyUntilMs) => ({ t0: Date.now() + 2500, healthyUntilMs, log: [] });
let current = stage(HEALTHY_UNTIL_MS);
const server = createServer((req, res) => {
  const atMs = Date.now() - current.t0;
  const status = atMs < current.healthyUntilMs ? 200 : 503;
  current.log.push({ atMs, replica: req.headers['x-replica'], status });
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(status === 200 ? 'ok' : 'down');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/`;
console.log(`\n== 4. A fleet: 2 Node + 2 Python replicas share one breaker through Redis (127.0.0.1:${redis.port}) ==`);
console.log(`   breaker: opens after ${BREAKER.failureThreshold} failures in a row fleet-wide on at least ${FLEET.minReplicas} replicas, ${BREAKER.resetTimeout} ms open; syncs every ${FLEET.syncInterval} ms`);
console.log(`   each replica calls twice a second; the dependency (${url}) dies at ${HEALTHY_UNTIL_MS / 1000} s; the run ends at ${END_MS / 1000} s`);
/** The four replicas of a stage, to their end; answers what each printed. */
async function runReplicas(endMs, mode) {
  const args = (id) => [id, url, String(redis.port), String(current.t0), String(endMs), mode];
  const results = await Promise.all([
    runChild(process.execPath, [`${here}replica.mjs`, ...args('node-1')]),
    runChild(process.execPath, [`${here}replica.mjs`, ...args('node-2')]),
    runChild(python, [`${here}replica.py`, ...args('python-1')]),
    runChild(python, [`${here}replica.py`, ...args('python-2')]),
  ]);
  const out = [];
  for (const r of results) {
    if (r.code !== 0) {
      console.error(`a replica failed (exit ${r.code}):\n${r.err}`);
      process.exitCode = 1;
      continue;
    }
    out.push(JSON.parse(r.out.trim().split('\n').at(-1)));
  }
  return out;
}

let replicas;
let quota;
let quotaLog;
try {
  replicas = await runReplicas(END_MS, 'breaker');
  const log = current.log;
  current = stage(Infinity);
  quota = await runReplicas(QUOTA.runMs, 'quota');
  quotaLog = current.log;
  current.log = log;
} finally {
  server.close();
  await redis.stop();
}
if (process.exitCode !== 1) {
  const log = current.log;
  const failed = log.filter((e) => e.status === 503);
  // The quorum: the threshold's failures in a row, from at least minReplicas replicas.
  let quorumAt;
  for (let i = BREAKER.failureThreshold - 1; i < failed.length && quorumAt === undefined; i++) {
    const run = failed.slice(0, i + 1);
    if (new Set(run.map((e) => e.replica)).size >= FLEET.minReplicas) quorumAt = failed[i].atMs;
  }
  const stoppedAt = Math.max(...replicas.map((r) => r.opened[0]?.atMs ?? Infinity));
  const before = failed.filter((e) => e.atMs <= stoppedAt).length;
  const after = failed.filter((e) => e.atMs > stoppedAt);
  const cooldowns = Math.floor((END_MS - stoppedAt) / BREAKER.resetTimeout);
  for (const r of replicas) {
    console.log(`   [${r.id.padEnd(8)}] opened at ${(r.opened[0]?.atMs / 1000).toFixed(3)} s after ${r.opened[0]?.ownFailures} failures of its own; ${r.ownFailures} failures in all`);
  }
  console.log(`   the server saw ${failed.length} failed calls: ${before} before every replica stopped (alone: ${BREAKER.failureThreshold} per replica, ${BREAKER.failureThreshold * replicas.length}), ` +
    `${after.length} probes in ${cooldowns} cooldowns (alone: one per replica per cooldown)`);
  console.log(`   quorum's failures at ${(quorumAt / 1000).toFixed(3)} s; every replica stopped ${(stoppedAt - quorumAt).toFixed(0)} ms later (one sync interval: ${FLEET.syncInterval} ms)`);
  const byFleet = replicas.filter((r) => r.opened[0] !== undefined && r.opened[0].ownFailures < BREAKER.failureThreshold).length;
  console.log(`   opened by the fleet (fewer than ${BREAKER.failureThreshold} failures of their own): ${byFleet} of ${replicas.length}`);
  console.log(`FLEET ${JSON.stringify({ failedBeforeStopped: before, probes: after.length, cooldowns, quorumAtMs: quorumAt, stoppedAtMs: stoppedAt, openedByFleet: byFleet, replicas: replicas.length })}`);
}

if (process.exitCode !== 1) {
  console.log(`\n   one rate limit for the fleet ('demo-quota': ${QUOTA.limit} a second, bursts of ${QUOTA.burst}); each replica tries ${1000 / QUOTA.callEveryMs} a second for ${QUOTA.runMs / 1000} s`);
  for (const r of quota) console.log(`   [${r.id.padEnd(8)}] ${r.admitted} calls made, ${r.refused} refused`);
  // The most calls the server saw in any second, and in all.
  const times = quotaLog.map((e) => e.atMs).sort((a, b) => a - b);
  let busiest = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= 1000) j++;
    busiest = Math.max(busiest, i - j + 1);
  }
  const allowed = QUOTA.limit * (QUOTA.runMs / 1000) + Math.max(QUOTA.burst, quota.length);
  console.log(`   the server saw ${times.length} calls in ${QUOTA.runMs / 1000} s (the limit allows ${allowed}: ${QUOTA.limit} a second and one burst), at most ${busiest} in any second`);
  console.log(`QUOTA ${JSON.stringify({ served: times.length, allowed, busiestSecond: busiest, offered: quota.reduce((n, r) => n + r.admitted + r.refused, 0) })}`);
}
