// The fleet demo as a test (make test-demo): four real processes, two languages, one breaker
// through a real redis-server. What it checks does not depend on how fast the machine is: the
// replicas opened on the fleet's failures (fewer than the threshold of their own), fewer failed
// calls reached the dead server than four lone breakers let through, and at most one probe per
// cooldown reached it; sharing one rate limit, they never sent the server more than it allows over
// the run (counted at the server; in any one second, that plus one call in flight per replica at
// the second's edge). SEAWALL_PYTHON names the interpreter that has the seawall wheel installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));

test('two Node and two Python replicas stop calling a dead dependency together, and share one rate limit', () => {
  const r = spawnSync(process.execPath, [join(here, 'run.mjs'), process.env.SEAWALL_PYTHON ?? 'python3'], { encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.status, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('FLEET '));
  assert.ok(line, r.stdout);
  const f = JSON.parse(line.slice('FLEET '.length));
  assert.equal(f.replicas, 4);
  assert.ok(f.openedByFleet >= 2, `opened by the fleet: ${f.openedByFleet}`);
  assert.ok(f.failedBeforeStopped < 5 * 4, `failed calls before all stopped: ${f.failedBeforeStopped}`);
  assert.ok(f.probes <= f.cooldowns + 1, `${f.probes} probes in ${f.cooldowns} cooldowns`);
  const q = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('QUOTA ')).slice('QUOTA '.length));
  assert.ok(q.offered > 2 * q.allowed, `the replicas tried more than the limit: ${q.offered}`);
  assert.ok(q.served <= q.allowed, `${q.served} calls reached the server, ${q.allowed} allowed`);
  assert.ok(q.served >= q.allowed / 2, `the limit was used: ${q.served}`);
  assert.ok(q.busiestSecond <= 40 + 4 + 4, `${q.busiestSecond} in the busiest second`);
});
