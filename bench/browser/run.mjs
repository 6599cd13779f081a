// Runs bench/browser/page.html in headless Chromium and prints the table. Not a test.
// Run: make bench-browser (builds, bundles cockatiel for the page, serves from 127.0.0.1).
// Chromium is started as a user's browser runs, without DevTools attached: with DevTools' Runtime
// domain on (as Playwright has it), V8 records a detailed stack for every Error made, whatever
// Error.stackTraceLimit says, which made both libraries' refusals cost 2-3 µs more.
import { gzipSync } from 'node:zlib';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', '..', 'bindings-node');
const require = createRequire(join(pkg, 'package.json'));
const { build } = require('esbuild');
const { serve, CHROMIUM_ARGS } = await import(join(pkg, 'test', 'browser', 'serve.mjs'));

const bundled = await build({ stdin: { contents: "export * from 'cockatiel';", resolveDir: pkg }, bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, logLevel: 'error' });
const cockatielJs = bundled.outputFiles[0].contents;
// The shell as a page would ship it: the browser entry bundled and minified (the glue and the
// .wasm are fetched beside it).
const shell = await build({ entryPoints: [join(pkg, 'dist', 'esm', 'entry.browser.js')], bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, metafile: true, logLevel: 'error' });
const glueBundled = Object.keys(shell.metafile.inputs).some((f) => f.endsWith('wasm/seawall_wasm.js'));
// `seawall/full` as a page would ship it, with its module.
const fullShell = await build({ entryPoints: [join(pkg, 'dist', 'esm', 'entry.full.js')], bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, logLevel: 'error' });
const fullShellJs = fullShell.outputFiles[0].contents;
// Issue 11's minimal app: the four names it imports, the rest left to the bundler's tree-shaking.
const app = await build({ stdin: { contents: "export { CircuitBreaker, withBackoff, resilientFetch, createBulkhead } from './dist/esm/entry.browser.js';", resolveDir: pkg }, bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, logLevel: 'error' });
const appJs = app.outputFiles[0].contents;
const shellJs = shell.outputFiles[0].contents;

/** The 4-API app built by Vite for production, as a page loads it: each emitted file with its
 * gzipped size (the JavaScript and the wasm module it fetches). */
async function viteApp() {
  const dir = mkdtempSync(join(tmpdir(), 'seawall-bench-vite-'));
  try {
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(pkg, join(dir, 'node_modules', 'seawall'), 'dir');
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/main.js"></script>');
    writeFileSync(join(dir, 'main.js'), "import { CircuitBreaker, withBackoff, resilientFetch, createBulkhead } from 'seawall';\nwindow.app = { CircuitBreaker, withBackoff, resilientFetch, createBulkhead };\n");
    const { build: viteBuild } = await import(join(pkg, 'node_modules', 'vite', 'dist', 'node', 'index.js'));
    const out = await viteBuild({ root: dir, logLevel: 'silent', configFile: false, build: { write: false } });
    const files = (Array.isArray(out) ? out : [out]).flatMap((o) => o.output).filter((f) => /\.(js|wasm)$/.test(f.fileName));
    return files.map((f) => ({ name: f.fileName.replace(/-[\w-]{8}\./, '.'), bytes: Buffer.from(f.type === 'chunk' ? f.code : f.source) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const viteFiles = await viteApp();

/** A wasm module without its custom sections (names, producers, target features). */
function stripped(bytes) {
  const kept = [bytes.subarray(0, 8)];
  let i = 8;
  while (i < bytes.length) {
    const start = i;
    const id = bytes[i++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[i++];
      size += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
    }
    i += size;
    if (id !== 0) kept.push(bytes.subarray(start, i));
  }
  return Buffer.concat(kept);
}

let settle;
const posted = new Promise((resolve) => (settle = resolve));
const site = await serve((url, req, res) => {
  if (url.pathname === '/bench/result' && req.method === 'POST') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      res.end();
      settle(JSON.parse(body));
    });
    return true;
  }
  if (url.pathname === '/bench-assets/cockatiel.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' });
    res.end(cockatielJs);
    return true;
  }
  if (url.pathname === '/bench/page.html') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(readFileSync(join(here, 'page.html')));
    return true;
  }
  return false;
});
const profile = mkdtempSync(join(tmpdir(), 'seawall-bench-chromium-'));
const chromium = spawn('/usr/bin/chromium', [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, `${site.url}/bench/page.html?n=${process.env.BENCH_N ?? 200000}`], { stdio: 'ignore', detached: true });
let timer;
try {
  const result = await Promise.race([posted, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the page posted nothing in 240 s')), 240_000)))]);
  if (result.error !== undefined) throw new Error(`page error: ${result.error}`);
  const { bare, rows, userAgent } = result;
  const wasm = readFileSync(join(pkg, 'wasm', 'seawall_wasm_bg.wasm'));
  const fullWasm = readFileSync(join(pkg, 'wasm', 'seawall_wasm_full_bg.wasm'));
  const glue = readFileSync(join(pkg, 'wasm', 'seawall_wasm.js'));
  console.log(`${userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? 'Chromium'}; bare await ${bare.toFixed(1)} ns; ns of overhead per call`);
  console.log('| scenario | Seawall (wasm) | cockatiel | Seawall ÷ cockatiel |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.scenario} | ${r.seawall.toFixed(0)} | ${r.cockatiel.toFixed(0)} | ${(r.seawall / r.cockatiel).toFixed(2)}× |`);
  const gz = (b) => gzipSync(b, { level: 9 }).length;
  // The shell imports the glue statically, so its bundle holds it: the page is the wasm plus the
  // shell (the glue's own size is shown, not added again, unless the bundle left it out).
  const total = gz(wasm) + gz(shellJs) + (glueBundled ? 0 : gz(glue));
  console.log(`size (the main entry, its lean module): wasm ${wasm.length} B (${gz(wasm)} B gz), shell ${shellJs.length} B minified (${gz(shellJs)} B gz, ${glueBundled ? 'glue included' : 'glue not included'}; the glue alone ${gz(glue)} B gz): ${total} B gz in all; cockatiel bundle ${cockatielJs.length} B (${gz(cockatielJs)} B gz)`);
  console.log(`size of an app importing { CircuitBreaker, withBackoff, resilientFetch, createBulkhead }: shell with glue ${appJs.length} B minified (${gz(appJs)} B gz): ${gz(wasm) + gz(appJs)} B gz with the wasm`);
  const vite = viteFiles.map((f) => ({ ...f, gz: gz(f.bytes) }));
  console.log(`size of that app built by Vite for production (what the page loads): ${vite.reduce((t, f) => t + f.gz, 0)} B gz in all — ${vite.map((f) => `${f.name} ${f.bytes.length} B (${f.gz} B gz)`).join(', ')}`);
  console.log(`size of seawall/full's page: wasm ${fullWasm.length} B (${gz(fullWasm)} B gz), shell with glue ${fullShellJs.length} B minified (${gz(fullShellJs)} B gz): ${gz(fullWasm) + gz(fullShellJs)} B gz in all`);
  // The floors (make wasm-floors): the core's machines alone, no binding, no engine API, the
  // browser's allocator, custom sections dropped as the shipped module has them dropped.
  const floor = (name) => stripped(readFileSync(join(here, '..', '..', 'target', 'wasm-floors', `${name}.wasm`)));
  const core = floor('core');
  const minimal = floor('minimal');
  console.log(`floors: the core alone (breaker, retry, bulkhead, registry, presets, Prometheus text; no rate limiter, fleet, engine API or binding) ${core.length} B (${gz(core)} B gz); what the minimal app needs of it alone (a breaker, a retry policy, a bulkhead, each from JSON options, with their stats) ${minimal.length} B (${gz(minimal)} B gz), ${gz(minimal) + gz(appJs)} B gz with that app's shell`);
} finally {
  clearTimeout(timer);
  const exited = new Promise((resolve) => chromium.once('exit', resolve));
  // Its own process group (detached): the browser and every helper process it started.
  process.kill(-chromium.pid);
  // Its profile goes once it has exited (it writes there while closing); 10 s at most.
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
  await new Promise((resolve) => setTimeout(resolve, 200));
  site.server.close();
  rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
}
