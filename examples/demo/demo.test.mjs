// The demo as a test (make test-demo): both replays byte-identical and telling the script's
// story; the live run (real HTTP on 127.0.0.1, ~15 s) exits 0 with both clients recovering.
// SEAWALL_PYTHON names the interpreter that has the seawall wheel installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const python = process.env.SEAWALL_PYTHON ?? 'python3';
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 90_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
};

test('the virtual-clock replays through Node and Python are byte-identical and follow the script', () => {
  const node = run(process.execPath, [join(here, 'client.mjs'), '--replay']);
  const py = run(python, [join(here, 'client.py'), '--replay']);
  assert.equal(py, node);
  const lines = node.trim().split('\n');
  assert.equal(lines.filter((l) => / result /.test(l)).length, 14, 'every request answered');
  assert.match(node, /^2\.030s #3 attempt 1 -> 503$/m, 'the outage starts at 2 s');
  assert.match(node, /#3 attempt 4 -> 503\n.* breaker CLOSED -> OPEN/, 'four failures open the breaker');
  assert.match(node, /#10 attempt 1 -> 429\n.*\n.* #10 retry 1 in 1000 ms/, 'Retry-After: 1 is honoured');
  assert.match(node, /breaker HALF_OPEN -> CLOSED\n.* #13 result 200/, 'recovers after the script does');
  assert.ok(lines.every((l) => /^\d+\.\d{3}s /.test(l)), 'every line stamped');
});

test('the live demo runs Node and Python against the flaky server at once and exits 0', () => {
  const out = run(process.execPath, [join(here, 'run.mjs'), python, mkdtempSync(join(tmpdir(), 'seawall-demo-'))]);
  for (const side of ['node  ', 'python']) {
    const mine = out.split('\n').filter((l) => l.startsWith(`  [${side}]`));
    assert.ok(mine.some((l) => / attempt \d -> 503/.test(l)), `${side} saw the outage`);
    assert.ok(mine.some((l) => / result CIRCUIT_OPEN/.test(l)), `${side}'s breaker shed load`);
    assert.match(mine.filter((l) => / result /.test(l)).at(-1), / #14 result 200$/, `${side} recovered`);
    assert.match(mine.at(-1), /metrics: 14 calls \(\d+ succeeded, \d+ failed, \d+ refused\), \d+ retries, breaker opened [1-9]\d*×$/, `${side}'s metrics read back`);
  }
  assert.match(out, /byte-identical: \d+ lines/);
});
