// The browser build as frontend teams use it: a small app importing from the package, built for
// production by each real bundler with no configuration of ours, served from 127.0.0.1 and run in
// Chromium. Vite and webpack emit the wasm module by themselves (`seawall`); esbuild and Rollup
// take the one documented line, `seawall/inline`. With esbuild and plain `seawall`, the page
// must fail with the URL and the fix, not a bare 404.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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

const app = (from) => `import { CircuitBreaker, backendName, createBulkhead, resilientFetch, withBackoff } from '${from}';
const cb = new CircuitBreaker({ failureThreshold: 1 });
await cb.execute(() => Promise.reject(new Error('down'))).catch(() => {});
let n = 0;
const retried = await withBackoff(async () => (++n < 3 ? Promise.reject(new Error('flaky')) : 'ok'), { maxRetries: 3, baseDelay: 1 });
const bulkhead = createBulkhead('app', 1, 0);
let full = '';
const gate = bulkhead.execute(() => new Promise((r) => setTimeout(r, 10)));
await bulkhead.execute(async () => 1).catch((e) => { full = e.code; });
await gate;
const res = await resilientFetch('/ping', {}, new CircuitBreaker({ failureThreshold: 3 }), { maxRetries: 1, baseDelay: 1 });
window.__result = { backend: backendName(), state: cb.getState(), retried, full, status: res.status };
`;

/** A project whose node_modules/seawall is this package, with `src/main.js` importing `from`. */
function project(name, from) {
  const dir = join(work, name);
  mkdirSync(join(dir, 'src'), { recursive: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(pkg, join(dir, 'node_modules', 'seawall'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `app-${name}`, private: true, type: 'module' }));
  writeFileSync(join(dir, 'src', 'main.js'), app(from));
  return dir;
}

const TYPES = { '.js': 'text/javascript', '.html': 'text/html', '.wasm': 'application/wasm' };

/** Serves `dir` (the production build) from 127.0.0.1, plus /ping; answers what the page
 * published (`window.__result`) or the first uncaught error. */
async function run(dir) {
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
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const page = await browser.newPage();
  try {
    const error = new Promise((resolve) => page.on('pageerror', (e) => resolve({ error: String(e.message ?? e) })));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const result = page.waitForFunction(() => window.__result, null, { timeout: 60_000 }).then((h) => h.jsonValue());
    return await Promise.race([result, error]);
  } finally {
    await page.close();
    server.close();
  }
}

const html = (script, module = true) => `<!doctype html><meta charset="utf-8"><script ${module ? 'type="module" ' : ''}src="${script}"></script>`;
const expected = { backend: 'wasm', state: 'OPEN', retried: 'ok', full: 'BULKHEAD_QUEUE_FULL', status: 200 };
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });

test('Vite, no configuration: `seawall`', async () => {
  const dir = project('vite', 'seawall');
  writeFileSync(join(dir, 'index.html'), html('/src/main.js'));
  sh(bin('vite'), ['build', '--logLevel', 'warn'], dir);
  assert.deepEqual(await run(join(dir, 'dist')), expected);
});

test('webpack 5, --mode production, no configuration: `seawall`', async () => {
  const dir = project('webpack', 'seawall');
  const out = sh(bin('webpack'), ['--mode', 'production', '--entry', './src/main.js', '--output-path', 'dist'], dir);
  assert.doesNotMatch(out, /WARNING|Critical dependency/);
  writeFileSync(join(dir, 'dist', 'index.html'), html('main.js', false));
  assert.deepEqual(await run(join(dir, 'dist')), expected);
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
