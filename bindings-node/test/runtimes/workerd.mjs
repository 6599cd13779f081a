// Seawall in Cloudflare's workerd: test/runtimes/worker.mjs bundled as Workers bundlers do it
// (esbuild with the `workerd` condition, the `.wasm` import kept as a module), run by workerd
// (npm package `workerd`, given as argv[2]) with a config of our own; then every conformance
// vector's trace, read back from the Worker, against the Rust runner's byte for byte (the fleet
// ones, which no Worker's module has, must say NOT_IN_MODULE), and the example Worker
// (examples/workers/) against a flaky upstream on 127.0.0.1. Prints `# pass N` / `# fail N` as node --test does.
//   node test/runtimes/workerd.mjs path/to/workerd
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

import { LEFT_OUT } from '../conformance-runner.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');
const out = join(root, 'target', 'runtimes', 'workerd');
mkdirSync(out, { recursive: true });
const workerd = process.argv[2];

let pass = 0;
let fail = 0;
function check(name, ok, detail = '') {
  if (ok) pass++;
  else fail++;
  console.log(`${ok ? 'ok' : 'not ok'} - ${name}${ok ? '' : `: ${detail}`}`);
}

// The vectors as a module of the bundle (a Worker reads no files).
const vectorsDir = join(root, 'tests', 'vectors');
const names = readdirSync(vectorsDir).filter((f) => f.endsWith('.json')).sort().map((f) => f.slice(0, -5));
writeFileSync(join(out, 'vectors.gen.mjs'), `// Written by workerd.mjs: the vectors, for the Worker.\nexport const vectors = ${JSON.stringify(Object.fromEntries(names.map((n) => [n, JSON.parse(readFileSync(join(vectorsDir, `${n}.json`), 'utf8'))])))};\n`);

// Bundled as wrangler bundles: `seawall` by its `workerd` condition (installed as a package
// would be, for the example Worker outside it), the wasm a module of its own.
const modules = join(out, 'node_modules');
mkdirSync(modules, { recursive: true });
if (!existsSync(join(modules, 'seawall'))) symlinkSync(join(root, 'bindings-node'), join(modules, 'seawall'), 'dir');
await build({
  nodePaths: [modules],
  entryPoints: [join(here, 'worker.mjs')],
  outfile: join(out, 'worker.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  conditions: ['workerd', 'worker'],
  logLevel: 'warning',
  plugins: [{ name: 'wasm-module', setup: (b) => b.onResolve({ filter: /\.wasm$/ }, () => ({ path: './seawall.wasm', external: true })) }],
});
copyFileSync(join(root, 'bindings-node', 'wasm', 'seawall_wasm_full_bg.wasm'), join(out, 'seawall.wasm'));

// A free port for the Worker, and the flaky server it calls: two 503s, then an answer.
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const { port: p } = s.address();
    s.close(() => resolve(p));
  });
});
let hits = 0;
const flaky = createServer((req, res) => {
  hits++;
  req.resume();
  res.writeHead(hits <= 2 ? 503 : 200, { 'content-type': 'text/plain' });
  res.end(hits <= 2 ? 'busy' : 'hello from 127.0.0.1');
});
await new Promise((r) => flaky.listen(0, '127.0.0.1', r));

writeFileSync(
  join(out, 'config.capnp'),
  `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # The flaky server is on 127.0.0.1: outbound fetches may reach local addresses.
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "seawall.wasm", wasm = embed "seawall.wasm"),
  ],
  compatibilityDate = "2026-11-01",
  bindings = [ (name = "UPSTREAM", text = "http://127.0.0.1:${flaky.address().port}/") ],
);
`,
);

const child = spawn(workerd, ['serve', join(out, 'config.capnp')], { stdio: ['ignore', 'inherit', 'inherit'] });
try {
  // Up when it answers (bounded: 100 tries, 100 ms apart).
  let up = false;
  for (let i = 0; i < 100 && !up && child.exitCode === null; i++) {
    up = await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  check('workerd serves the Worker', up, `exit code ${child.exitCode}`);
  if (up) {
    const { backend, results } = await (await fetch(`http://127.0.0.1:${port}/vectors`)).json();
    console.log(`# workerd, backend ${backend.name}`);
    for (const name of names) {
      const r = results[name];
      if (name in LEFT_OUT.full) {
        check(`vector ${name} (not in a Worker's module)`, r?.missing === true, JSON.stringify(r).slice(0, 200));
        continue;
      }
      const rust = join(root, 'target', 'conformance', 'rust', `${name}.trace.json`);
      const want = existsSync(rust) ? readFileSync(rust, 'utf8') : undefined;
      check(`vector ${name}`, r?.trace !== undefined && r.trace === want, want === undefined ? `no Rust trace at ${rust}: run make test-core first` : JSON.stringify(r).slice(0, 300));
    }
    // The example Worker: its upstream fails twice, then answers.
    const answer = await fetch(`http://127.0.0.1:${port}/quote?symbol=SEA`);
    const got = [answer.status, await answer.text(), hits];
    check('the example Worker retries its flaky upstream on 127.0.0.1 to its answer', JSON.stringify(got) === JSON.stringify([200, 'hello from 127.0.0.1', 3]), JSON.stringify(got));
  }
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
  await new Promise((r) => flaky.close(r));
}
console.log(`# pass ${pass}`);
console.log(`# fail ${fail}`);
if (fail > 0) process.exitCode = 1;
