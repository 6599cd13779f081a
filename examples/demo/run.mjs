// `make demo`, steps 2 and 3: a flaky HTTP server on 127.0.0.1 (healthy, an outage of 503s,
// 429s with Retry-After, recovery) and the same client policy run against it from Node
// (resilientFetch) and Python (ResilientClient) at the same time, each side's timeline printed
// as it happens; then both clients replay the script on a virtual clock and the two traces are
// compared byte for byte. Every child has a deadline; the server closes when they are done.
//   node examples/demo/run.mjs PYTHON OUT_DIR
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from '../child.mjs';
import { phaseAt, scenario, stamp } from './script.mjs';

const [python = 'python3', outDir = 'target/demo'] = process.argv.slice(2);
const here = fileURLToPath(new URL('.', import.meta.url));
mkdirSync(outDir, { recursive: true });

function check(label, result) {
  if (result.code !== 0) {
    console.error(`${label} failed (exit ${result.code}):\n${result.err}`);
    process.exitCode = 1;
  }
  return result.code === 0;
}

// ---- live -------------------------------------------------------------------------------------
// The clients need a moment to start (Python imports httpx): the script's time 0 is a bit ahead.
const t0 = Date.now() + 1500;
const served = new Map(scenario.phases.map((ph) => [ph, 0]));
// The server announces each phase when it begins, whether or not anyone is calling.
const phaseTimers = [0, ...scenario.phases.filter((ph) => ph.untilMs !== undefined).map((ph) => ph.untilMs)].map((at) =>
  setTimeout(() => {
    const ph = phaseAt(at);
    console.log(`  [server] ${stamp(at)} ${ph.label}: answering ${ph.status}`);
  }, t0 + at - Date.now()),
);
const server = createServer((req, res) => {
  const phase = phaseAt(Date.now() - t0);
  served.set(phase, served.get(phase) + 1);
  setTimeout(() => {
    const headers = { 'content-type': 'application/json', ...(phase.retryAfterS !== undefined ? { 'retry-after': String(phase.retryAfterS) } : {}) };
    res.writeHead(phase.status, headers);
    res.end(JSON.stringify({ phase: phase.label }));
  }, scenario.latencyMs);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}`;
const p = scenario.policy;
console.log(`\n== 2. Live: a flaky server on ${url}, the same policy from Node and Python at once ==`);
console.log(`   script: ${scenario.phases.map((ph) => `${ph.label} (${ph.status})${ph.untilMs !== undefined ? ` until ${ph.untilMs / 1000}s` : ''}`).join(', then ')}`);
console.log(`   policy: ${p.maxRetries} retries, full-jitter backoff ${p.baseDelayMs}..${p.maxDelayMs} ms (seed ${p.seed}), breaker opens after ${p.breaker.failureThreshold} failures for ${p.breaker.resetTimeoutMs} ms, ${p.attemptTimeoutMs} ms per attempt`);
console.log(`   one request a second, ${scenario.requests} requests per client\n`);
const [nodeLive, pyLive] = await Promise.all([
  runChild(process.execPath, [join(here, 'client.mjs'), '--live', url, String(t0)], { label: '[node  ]' }),
  runChild(python, [join(here, 'client.py'), '--live', url, String(t0)], { label: '[python]' }),
]);
server.close();
phaseTimers.forEach(clearTimeout);
check('live Node client', nodeLive);
check('live Python client', pyLive);
const finals = (out) => out.split('\n').filter((l) => / result /.test(l)).map((l) => l.split(' result ')[1]);
const metricsOf = (out) => out.split('\n').find((l) => l.startsWith('metrics: '))?.slice('metrics: '.length) ?? 'none';
const tally = (out) => Object.entries(finals(out).reduce((m, r) => ((m[r] = (m[r] ?? 0) + 1), m), {})).map(([k, v]) => `${v}× ${k}`).join(', ');
console.log(`\n   Node results:   ${tally(nodeLive.out)}`);
console.log(`   Python results: ${tally(pyLive.out)}`);
console.log(`   Node, read back from its OpenTelemetry metrics:   ${metricsOf(nodeLive.out)}`);
console.log(`   Python, read back from its OpenTelemetry metrics: ${metricsOf(pyLive.out)}`);
console.log(`   requests the server saw, both clients together: ${[...served].map(([ph, n]) => `${n} while ${ph.label.split(' (')[0]}`).join(', ')}`);

// ---- replay -------------------------------------------------------------------------------------
console.log('\n== 3. Replay: the same script on a virtual clock, through the Node and the Python binding ==');
const [nodeReplay, pyReplay] = await Promise.all([
  runChild(process.execPath, [join(here, 'client.mjs'), '--replay']),
  runChild(python, [join(here, 'client.py'), '--replay']),
]);
if (check('Node replay', nodeReplay) && check('Python replay', pyReplay)) {
  writeFileSync(join(outDir, 'replay-node.txt'), nodeReplay.out);
  writeFileSync(join(outDir, 'replay-python.txt'), pyReplay.out);
  const sha = (s) => createHash('sha256').update(s).digest('hex').slice(0, 16);
  const lines = nodeReplay.out.split('\n').filter(Boolean);
  for (const line of lines) console.log(`  ${line}`);
  if (nodeReplay.out === pyReplay.out && lines.length > 0) {
    console.log(`\n   byte-identical: ${lines.length} lines, sha256 ${sha(nodeReplay.out)} from both (${join(outDir, 'replay-node.txt')}, ${join(outDir, 'replay-python.txt')})`);
  } else {
    const a = nodeReplay.out.split('\n');
    const b = pyReplay.out.split('\n');
    const i = a.findIndex((l, k) => l !== b[k]);
    console.error(`\n   traces differ at line ${i + 1}:\n     node:   ${a[i]}\n     python: ${b[i]}`);
    process.exitCode = 1;
  }
}
