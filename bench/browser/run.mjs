// Runs bench/browser/page.html in headless Chromium and prints the table. Not a test.
// Run: make bench-browser (builds, bundles cockatiel for the page, serves from 127.0.0.1).
import { gzipSync } from 'node:zlib';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..', '..', 'bindings-node');
const require = createRequire(join(pkg, 'package.json'));
const { build } = require('esbuild');
const { serve, launchChromium } = await import(join(pkg, 'test', 'browser', 'serve.mjs'));

const assets = join(pkg, '..', 'target', 'bench-assets');
mkdirSync(assets, { recursive: true });
const bundled = await build({ stdin: { contents: "export * from 'cockatiel';", resolveDir: pkg }, bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, logLevel: 'error' });
const cockatielJs = bundled.outputFiles[0].contents;
// The shell as a page would ship it: the browser entry bundled and minified (the glue and the
// .wasm are fetched beside it).
const shell = await build({ entryPoints: [join(pkg, 'dist', 'esm', 'entry.browser.js')], bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, metafile: true, logLevel: 'error' });
const glueBundled = Object.keys(shell.metafile.inputs).some((f) => f.endsWith('wasm/seawall_wasm.js'));
// Issue 11's minimal app: the four names it imports, the rest left to the bundler's tree-shaking.
const app = await build({ stdin: { contents: "export { CircuitBreaker, withBackoff, resilientFetch, createBulkhead } from './dist/esm/entry.browser.js';", resolveDir: pkg }, bundle: true, format: 'esm', platform: 'browser', minify: true, write: false, logLevel: 'error' });
const appJs = app.outputFiles[0].contents;
const shellJs = shell.outputFiles[0].contents;

const site = await serve((url, _req, res) => {
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
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', String(e)));
  page.on('console', (m) => console.error('page console:', m.type(), m.text()));
  page.on('crash', () => console.error('page crashed'));
  await page.goto(`${site.url}/bench/page.html?n=${process.env.BENCH_N ?? 200000}`);
  await page.waitForFunction(() => window.__bench !== undefined, null, { timeout: 240_000 });
  const { bare, rows, userAgent } = await page.evaluate(() => window.__bench);
  const wasm = readFileSync(join(pkg, 'wasm', 'seawall_wasm_bg.wasm'));
  const glue = readFileSync(join(pkg, 'wasm', 'seawall_wasm.js'));
  console.log(`${userAgent.match(/Chrome\/[\d.]+/)?.[0] ?? 'Chromium'}; bare await ${bare.toFixed(1)} ns; ns of overhead per call`);
  console.log('| scenario | Seawall (wasm) | cockatiel | Seawall ÷ cockatiel |');
  console.log('|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.scenario} | ${r.seawall.toFixed(0)} | ${r.cockatiel.toFixed(0)} | ${(r.seawall / r.cockatiel).toFixed(2)}× |`);
  const gz = (b) => gzipSync(b, { level: 9 }).length;
  // The shell imports the glue statically, so its bundle holds it: the page is the wasm plus the
  // shell (the glue's own size is shown, not added again, unless the bundle left it out).
  const total = gz(wasm) + gz(shellJs) + (glueBundled ? 0 : gz(glue));
  console.log(`size: wasm ${wasm.length} B (${gz(wasm)} B gz), shell ${shellJs.length} B minified (${gz(shellJs)} B gz, ${glueBundled ? 'glue included' : 'glue not included'}; the glue alone ${gz(glue)} B gz): ${total} B gz in all; cockatiel bundle ${cockatielJs.length} B (${gz(cockatielJs)} B gz)`);
  console.log(`size of an app importing { CircuitBreaker, withBackoff, resilientFetch, createBulkhead }: shell with glue ${appJs.length} B minified (${gz(appJs)} B gz): ${gz(wasm) + gz(appJs)} B gz with the wasm`);
} finally {
  await browser.close();
  site.server.close();
}
