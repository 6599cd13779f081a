// The browser build as frontend teams use it: a small app importing from the package, built for
// production by each real bundler with no configuration of ours, served from 127.0.0.1 and run in
// Chromium. Vite, webpack and Parcel emit the wasm module by themselves (`seawall`); esbuild and Rollup
// take the one documented line, `seawall/inline`. With esbuild and plain `seawall`, the page
// must fail with the URL and the fix, not a bare 404. Every page is served under a strict CSP
// (`script-src 'self' 'wasm-unsafe-eval'`); a plain page with an import map, and module
// workers (by URL, and built by webpack), run the same app.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { launchChromium } from './serve.mjs';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name) => join(pkg, 'node_modules', '.bin', name);
const work = join(pkg, '..', 'target', 'bundlers');
let browser;

before(async () => {
  rmSync(work, { recursive: true, force: true });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/** The app: every part of the API a page uses, its findings published by `publish(result)`. */
const app = (from, publish = 'window.__result = ') => `${appImports(from)}${appBody(publish)}`;
const appImports = (from) => `import { CircuitBreaker, backendName, createBulkhead, resilientFetch, withBackoff } from '${from}';
`;
const appBody = (publish) => `const cb = new CircuitBreaker({ failureThreshold: 1 });
await cb.execute(() => Promise.reject(new Error('down'))).catch(() => {});
let n = 0;
const retried = await withBackoff(async () => (++n < 3 ? Promise.reject(new Error('flaky')) : 'ok'), { maxRetries: 3, baseDelay: 1 });
const bulkhead = createBulkhead('app', 1, 0);
let full = '';
const gate = bulkhead.execute(() => new Promise((r) => setTimeout(r, 10)));
await bulkhead.execute(async () => 1).catch((e) => { full = e.code; });
await gate;
const res = await resilientFetch('/ping', {}, new CircuitBreaker({ failureThreshold: 3 }), { maxRetries: 1, baseDelay: 1 });
${publish}({ backend: backendName(), state: cb.getState(), retried, full, status: res.status });
`;

/** A project whose node_modules/seawall is this package, with `src/main.js` importing `from`. */
function project(name, from, publish) {
  const dir = join(work, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(pkg, join(dir, 'node_modules', 'seawall'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `app-${name}`, private: true, type: 'module' }));
  writeFileSync(join(dir, 'src', 'main.js'), app(from, publish));
  return dir;
}

const TYPES = { '.js': 'text/javascript', '.html': 'text/html', '.wasm': 'application/wasm' };

/** Serves `dir` (the production build) from 127.0.0.1, plus /ping, with `headers` on every
 * answer; answers what the page published (`window.__result`) or the first uncaught error (or
 * CSP violation). */
async function run(dir, headers = STRICT_CSP) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://127.0.0.1').pathname;
    if (path === '/ping') return res.writeHead(200, { 'content-type': 'text/plain' }).end('pong');
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    let body;
    try {
      body = file.startsWith(dir) ? readFileSync(file) : undefined;
    } catch {
      body = undefined;
    }
    if (body === undefined) return res.writeHead(404).end('not found');
    res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const page = await browser.newPage();
  try {
    const error = new Promise((resolve) => {
      page.on('pageerror', (e) => resolve({ error: String(e.message ?? e) }));
      page.on('console', (m) => m.type() === 'error' && /Content Security Policy|Refused/.test(m.text()) && resolve({ error: m.text() }));
    });
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const result = page.waitForFunction(() => window.__result, null, { timeout: 60_000 }).then((h) => h.jsonValue());
    return await Promise.race([result, error]);
  } finally {
    await page.close();
    server.close();
  }
}

/** What a strict site sends: scripts only from its origin, and WebAssembly compiled from them. */
const STRICT_CSP = { 'content-security-policy': "script-src 'self' 'wasm-unsafe-eval'" };

const html = (script, module = true) => `<!doctype html><meta charset="utf-8"><script ${module ? 'type="module" ' : ''}src="${script}"></script>`;
const expected = { backend: 'wasm', state: 'OPEN', retried: 'ok', full: 'BULKHEAD_QUEUE_FULL', status: 200 };
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

test('Vite, no configuration: `seawall`', async () => {
  const dir = project('vite', 'seawall');
  writeFileSync(join(dir, 'index.html'), html('/src/main.js'));
  sh(bin('vite'), ['build', '--logLevel', 'warn'], dir);
  assert.deepEqual(await run(join(dir, 'dist')), expected);
});

test('Parcel 2, no configuration: `seawall`', async () => {
  const dir = project('parcel', 'seawall');
  writeFileSync(join(dir, 'index.html'), html('./src/main.js'));
  const out = sh(bin('parcel'), ['build', 'index.html', '--no-cache', '--dist-dir', 'dist', '--log-level', 'warn'], dir);
  assert.doesNotMatch(out, /warn/i);
  // Parcel maps its hashed asset names with an inline import map: a strict CSP allows its hash.
  const map = /<script type=importmap>(.*?)<\/script>/.exec(readFileSync(join(dir, 'dist', 'index.html'), 'utf8'))?.[1];
  const mapSource = map === undefined ? '' : ` 'sha256-${createHash('sha256').update(map).digest('base64')}'`;
  assert.deepEqual(await run(join(dir, 'dist'), { 'content-security-policy': `${STRICT_CSP['content-security-policy']}${mapSource}` }), expected);
});

/** webpack 5 with no configuration from `entry`, with no warning at all (its size hints
 * included: the module must stay under webpack's 244 KiB); answers what the page published. */
async function webpackRun(dir, entry) {
  const out = sh(bin('webpack'), ['--mode', 'production', '--entry', entry, '--output-path', 'dist'], dir);
  assert.doesNotMatch(out, /WARNING|Critical dependency/);
  writeFileSync(join(dir, 'dist', 'index.html'), html('main.js', false));
  return run(join(dir, 'dist'));
}

/** A page script that runs the app in a worker (`create`: the expression making it) and
 * publishes what the worker posts, or its error. */
const workerPage = (create) => `const worker = ${create};
worker.onmessage = (e) => { window.__result = e.data; };
worker.onerror = (e) => { window.__result = { error: String(e.message) }; };
`;

test('webpack 5, --mode production, no configuration: `seawall`', async () => {
  assert.deepEqual(await webpackRun(project('webpack', 'seawall'), './src/main.js'), expected);
});

test('esbuild --bundle: `seawall/inline`', async () => {
  const dir = project('esbuild', 'seawall/inline');
  sh(bin('esbuild'), ['src/main.js', '--bundle', '--format=esm', '--platform=browser', '--minify', '--outfile=dist/main.js', '--log-level=warning'], dir);
  writeFileSync(join(dir, 'dist', 'index.html'), html('main.js'));
  assert.deepEqual(await run(join(dir, 'dist')), expected);
});

test('Rollup with node-resolve: `seawall/inline`', async () => {
  const dir = project('rollup', 'seawall/inline');
  writeFileSync(join(dir, 'rollup.config.mjs'), `import { nodeResolve } from '${join(pkg, 'node_modules', '@rollup', 'plugin-node-resolve', 'dist', 'es', 'index.js')}';
export default { input: 'src/main.js', output: { file: 'dist/main.js', format: 'es' }, plugins: [nodeResolve({ browser: true })] };
`);
  sh(bin('rollup'), ['-c', '--silent'], dir);
  writeFileSync(join(dir, 'dist', 'index.html'), html('main.js'));
  assert.deepEqual(await run(join(dir, 'dist')), expected);
});

test('esbuild with plain `seawall`: the error names the URL and the fix, not a bare 404', async () => {
  const dir = project('esbuild-plain', 'seawall');
  sh(bin('esbuild'), ['src/main.js', '--bundle', '--format=esm', '--platform=browser', '--outfile=dist/main.js', '--log-level=error'], dir);
  writeFileSync(join(dir, 'dist', 'index.html'), html('main.js'));
  const { error } = await run(join(dir, 'dist'));
  assert.match(error, /could not fetch its WebAssembly module from http:\/\/127\.0\.0\.1:\d+\/wasm\/seawall_wasm_bg\.wasm \(HTTP 404\)/);
  assert.match(error, /seawall\/inline/);
});

/** A page with no bundler: an import map names the package's browser entry. Answers the
 * directory and the CSP source that allows the (inline) map. */
function importMapPage(name) {
  const dir = project(name, 'seawall');
  const map = JSON.stringify({ imports: { seawall: '/node_modules/seawall/dist/esm/entry.browser.js' } });
  writeFileSync(join(dir, 'index.html'), `<!doctype html><meta charset="utf-8"><script type="importmap">${map}</script><script type="module" src="/src/main.js"></script>`);
  return { dir, mapSource: `'sha256-${createHash('sha256').update(map).digest('base64')}'` };
}

test('a plain page with an import map, no bundler, under the strict CSP (the map allowed by its hash)', async () => {
  const { dir, mapSource } = importMapPage('importmap');
  assert.deepEqual(await run(dir, { 'content-security-policy': `script-src 'self' 'wasm-unsafe-eval' ${mapSource}` }), expected);
});

test('the CSP is really enforced: without wasm-unsafe-eval, the page fails on compiling the module', async () => {
  const { dir, mapSource } = importMapPage('csp-without-wasm');
  const { error } = await run(dir, { 'content-security-policy': `script-src 'self' ${mapSource}` });
  assert.match(error, /WebAssembly.*'unsafe-eval'|wasm-unsafe-eval/);
});

test('a module Web Worker, no bundler: `seawall` by URL', async () => {
  const dir = project('worker', '/node_modules/seawall/dist/esm/entry.browser.js', 'postMessage');
  writeFileSync(join(dir, 'src', 'page.js'), workerPage("new Worker('/src/main.js', { type: 'module' })"));
  writeFileSync(join(dir, 'index.html'), html('/src/page.js'));
  assert.deepEqual(await run(dir), expected);
});

test('a Web Worker built by webpack 5 with no configuration: `seawall`', async () => {
  const dir = project('webpack-worker', 'seawall', 'postMessage');
  writeFileSync(join(dir, 'src', 'page.js'), workerPage("new Worker(new URL('./main.js', import.meta.url))"));
  assert.deepEqual(await webpackRun(dir, './src/page.js'), expected);
});

test('a module Service Worker with `seawall/init` (service workers forbid top-level await)', async () => {
  const dir = project('service-worker', 'seawall/init');
  const entry = '/node_modules/seawall/dist/esm/entry.init.js';
  writeFileSync(join(dir, 'sw.js'), `import init from '${entry}';
${appImports(entry)}
// Before init: a policy says what to do.
let early = '';
try { new CircuitBreaker({}); } catch (e) { early = e.message; }
const ready = init();
self.addEventListener('install', (e) => { e.waitUntil(ready); self.skipWaiting(); });
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (e) => {
  if (new URL(e.request.url).pathname !== '/sw-result') return;
  e.respondWith(ready.then(run).then((r) => Response.json({ ...r, early }), (err) => Response.json({ error: String(err) })));
});
async function run() {
${appBody('return ')}}
`);
  writeFileSync(join(dir, 'src', 'page.js'), `const sw = navigator.serviceWorker;
sw.register('/sw.js', { type: 'module' }).then(async () => {
  await sw.ready;
  if (!sw.controller) await new Promise((r) => sw.addEventListener('controllerchange', r, { once: true }));
  window.__result = await (await fetch('/sw-result')).json();
}).catch((e) => { window.__result = { error: String(e) }; });
`);
  writeFileSync(join(dir, 'index.html'), html('/src/page.js'));
  const { early, ...result } = await run(dir);
  assert.deepEqual(result, expected);
  assert.equal(early, 'seawall/init: call `await init()` before the first policy');
});

/** The package's modules a bundle holds (paths under dist/esm or wasm), sorted. */
const ours = (ids) => [...new Set(ids.map((id) => /(?:dist\/esm|wasm)\/[^/?]+$/.exec(id.replaceAll('\\', '/'))?.[0]).filter(Boolean))].sort();
/** What the lean entry must never bring into a page: the fleet, rate limits, budgets' syncs,
 * health and Prometheus text, the presets' manager and the simulator. */
const NEVER_IN_A_LEAN_PAGE = ['dist/esm/fleet.js', 'dist/esm/ratelimit.js', 'dist/esm/metrics.js', 'dist/esm/manager.js', 'dist/esm/simulate.js', 'dist/esm/presets.js', 'dist/esm/hedge.js'];

test('the lean entry tree-shakes: the 4-API app built by Vite and by esbuild holds none of the fleet, rate-limit, hedging, Prometheus or simulator code', async () => {
  const dir = project('lean-modules', 'seawall');
  writeFileSync(join(dir, 'index.html'), html('/src/main.js'));
  const { build } = await import(join(pkg, 'node_modules', 'vite', 'dist', 'node', 'index.js'));
  const out = await build({ root: dir, logLevel: 'silent', configFile: false, build: { write: false } });
  const chunks = (Array.isArray(out) ? out : [out]).flatMap((o) => o.output).filter((o) => o.type === 'chunk');
  const viteModules = ours(chunks.flatMap((c) => Object.keys(c.modules)));
  const esbuild = await import(join(pkg, 'node_modules', 'esbuild', 'lib', 'main.js'));
  const r = await esbuild.build({ entryPoints: [join(dir, 'src', 'main.js')], bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, metafile: true, logLevel: 'error', absWorkingDir: dir, external: ['*.wasm'] });
  const emitted = Object.values(r.metafile.outputs).flatMap((o) => Object.entries(o.inputs).filter(([, i]) => i.bytesInOutput > 0).map(([f]) => f));
  const esbuildModules = ours(emitted.map((f) => join(dir, f)));
  for (const [bundler, modules] of [['Vite', viteModules], ['esbuild', esbuildModules]]) {
    assert.ok(modules.includes('dist/esm/breaker.js') && modules.includes('dist/esm/fetch.js'), `${bundler}: ${modules.join(', ')}`);
    assert.deepEqual(modules.filter((m) => NEVER_IN_A_LEAN_PAGE.includes(m)), [], `${bundler} bundled ${modules.join(', ')}`);
  }
  // The same modules from both (resolved from the `browser` condition: the lean entry).
  assert.deepEqual(viteModules.filter((m) => m.startsWith('dist/')), esbuildModules.filter((m) => m.startsWith('dist/')));
  assert.ok(viteModules.includes('dist/esm/entry.browser.js'));
});

test('a page that imports both entries, in either order, runs on the whole module', async () => {
  for (const [name, first, second] of [['vite-both', 'seawall', 'seawall/full'], ['vite-both-full-first', 'seawall/full', 'seawall']]) {
    const both = project(name, 'seawall');
    writeFileSync(join(both, 'src', 'main.js'), `import { CircuitBreaker } from '${first}';
import { RateLimiter, prometheusMetrics, backendName } from '${second}';
new CircuitBreaker('api');
let limiter = 'made';
try { await new RateLimiter('api', { limit: 1 }).execute(async () => 1); } catch (e) { limiter = e.code; }
window.__result = { backend: backendName(), limiter, prometheus: prometheusMetrics().includes('circuit_breaker_calls_total{name="api"') };
`);
    writeFileSync(join(both, 'index.html'), html('/src/main.js'));
    sh(bin('vite'), ['build', '--logLevel', 'warn'], both);
    assert.deepEqual(await run(join(both, 'dist')), { backend: 'wasm', limiter: 'made', prometheus: true }, `${first}, then ${second}`);
  }
});

test('`seawall/full` through Vite: a page with a rate limiter and Prometheus text; the lean entry refuses them with a typed error naming it', async () => {
  const full = project('vite-full', 'seawall/full');
  writeFileSync(join(full, 'src', 'main.js'), `import { CircuitBreaker, RateLimiter, prometheusMetrics, backendName } from 'seawall/full';
new CircuitBreaker('api');
const limiter = new RateLimiter('api', { limit: 1 });
await limiter.execute(async () => 1);
let refused = '';
await limiter.execute(async () => 2).catch((e) => { refused = e.code; });
window.__result = { backend: backendName(), refused, prometheus: prometheusMetrics().includes('circuit_breaker_calls_total{name="api"') };
`);
  writeFileSync(join(full, 'index.html'), html('/src/main.js'));
  sh(bin('vite'), ['build', '--logLevel', 'warn'], full);
  assert.deepEqual(await run(join(full, 'dist')), { backend: 'wasm', refused: 'RATE_LIMITED', prometheus: true });
  const lean = project('vite-lean-refuses', 'seawall');
  writeFileSync(join(lean, 'src', 'main.js'), `import { RateLimiter, CircuitBreaker } from 'seawall';
const refusal = (f) => { try { f(); return 'accepted'; } catch (e) { return { name: e.name, code: e.code, names: /'seawall\\/full'|from Node/.test(e.message) }; } };
window.__result = {
  limiter: refusal(() => new RateLimiter('api', { limit: 1 })),
  fleet: refusal(() => new CircuitBreaker('shared', { fleet: { redis: { eval() {}, set() {} } } })),
  breaker: new CircuitBreaker('plain', { failureThreshold: 2 }).getState(),
};
`);
  writeFileSync(join(lean, 'index.html'), html('/src/main.js'));
  sh(bin('vite'), ['build', '--logLevel', 'warn'], lean);
  const refused = { name: 'TypeError', code: 'NOT_IN_MODULE', names: true };
  assert.deepEqual(await run(join(lean, 'dist')), { limiter: refused, fleet: refused, breaker: 'CLOSED' });
});
