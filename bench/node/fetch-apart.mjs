// Per-request cost of the HTTP integrations measured as an application runs them: one client
// configuration per process (fetch.mjs runs every case in one process, where the dispatchers and
// handlers of all the cases pass through the same undici and Node code and share its JIT state).
// Each round starts one process per case, in turn, against one 127.0.0.1 server in a process of
// its own; each process warms up, then times N requests (wall and its own CPU). Printed: each
// case's per-round ratio to the bare client of the same round (median and range). Not a test.
// Run: node bench/node/fetch-apart.mjs (after make build-node).
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { relaying } from './relaying.mjs';

const self = fileURLToPath(import.meta.url);
const N = Number(process.env.BENCH_N ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

if (process.argv[2] === 'server') {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
  });
  server.listen(0, '127.0.0.1', () => process.send(server.address().port));
  process.on('disconnect', () => process.exit(0));
} else if (process.argv[2] === 'case') {
  await runCase(process.argv[3], Number(process.argv[4]));
} else {
  await main();
}

async function runCase(name, port) {
  const pkg = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'bindings-node');
  const { Bulkhead, CircuitBreaker, createResilientFetch, createResilientInterceptor } = await import(join(pkg, 'dist', 'esm', 'entry.node.js'));
  const { Agent, request } = await import(join(pkg, 'node_modules', 'undici', 'index.js'));
  const url = `http://127.0.0.1:${port}/v1/chat/completions`;
  const policies = () => ({ circuitBreaker: new CircuitBreaker({ failureThreshold: 5 }), bulkhead: new Bulkhead({ maxConcurrent: 16 }), maxAttempts: 3 });
  const viaUndici = (dispatcher) => async () => (await request(url, { method: 'POST', body: '{}', dispatcher })).body.text();
  const guardedFetch = createResilientFetch(policies());
  const cases = {
    'undici bare': () => viaUndici(new Agent()),
    'undici relay + timer': () => viaUndici(new Agent().compose(relaying(true))),
    'undici interceptor': () => viaUndici(new Agent().compose(createResilientInterceptor(policies()))),
    'fetch bare': () => async () => (await fetch(url, { method: 'POST', body: '{}' })).text(),
    // What any fetch with a per-attempt timeout pays: a signal and a timer per request.
    'fetch + signal + timer': () => async () => {
      const c = new AbortController();
      const t = setTimeout(() => c.abort(), 30_000);
      try {
        return await (await fetch(url, { method: 'POST', body: '{}', signal: c.signal })).text();
      } finally {
        clearTimeout(t);
      }
    },
    createResilientFetch: () => async () => (await guardedFetch(url, { method: 'POST', body: '{}' })).text(),
  };
  const one = cases[name]();
  for (let i = 0; i < 3000; i++) await one();
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < N; i++) await one();
  const used = process.cpuUsage(cpu);
  process.send({ wall: ((performance.now() - t) * 1000) / N, cpu: (used.user + used.system) / N });
  process.disconnect();
}

async function main() {
  const server = fork(self, ['server']);
  const port = await new Promise((r) => server.once('message', r));
  const groups = [
    ['undici bare', 'undici relay + timer', 'undici interceptor'],
    ['fetch bare', 'fetch + signal + timer', 'createResilientFetch'],
  ];
  const ratios = new Map();
  for (let round = 0; round < ROUNDS; round++) {
    for (const group of groups) {
      const got = [];
      for (const name of group) {
        const child = fork(self, ['case', name, String(port)]);
        got.push(await new Promise((resolve, reject) => {
          child.once('message', resolve);
          child.once('exit', (code) => code !== 0 && reject(new Error(`${name}: exit ${code}`)));
        }));
      }
      group.forEach((name, i) => {
        if (!ratios.has(name)) ratios.set(name, { wall: [], cpu: [] });
        ratios.get(name).wall.push(got[i].wall / got[0].wall);
        ratios.get(name).cpu.push(got[i].cpu / got[0].cpu);
      });
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const range = (xs) => `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}`;
  console.log(`Node ${process.version}; ${ROUNDS} rounds, one process per case (in turn), ${N} requests each after 3,000 to warm up`);
  console.log('| case | wall ÷ bare, median (range) | CPU ÷ bare, median (range) |');
  console.log('|---|---:|---:|');
  for (const [name, r] of ratios) {
    if (name.endsWith('bare')) continue;
    console.log(`| ${name} | ${median(r.wall).toFixed(2)}× (${range(r.wall)}) | ${median(r.cpu).toFixed(2)}× (${range(r.cpu)}) |`);
  }
  server.kill();
}
