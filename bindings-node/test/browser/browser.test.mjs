// The conformance vectors through the wasm backend in real headless Chromium (Debian's
// /usr/bin/chromium, driven by playwright-core; no browser download). Each step must match its
// `expect`, and each trace must be byte-identical to the Rust runner's.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { canonical, LEFT_OUT } from '../conformance-runner.mjs';
import { launchChromium, serve } from './serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let browser;
let site;

/** /flaky/<id>?script=a,b,c: per id, answers the script in order (a status, `429ra1` for 429
 * with Retry-After: 1, `hang` for no answer), then 200. */
const scripts = new Map();
function flaky(url, req, res) {
  if (!url.pathname.startsWith('/flaky/')) return false;
  const id = url.pathname;
  if (!scripts.has(id)) scripts.set(id, (url.searchParams.get('script') ?? '').split(',').filter(Boolean));
  const step = scripts.get(id).shift();
  if (step === 'hang') return true;
  const headers = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  let status = 200;
  if (step === '429ra1') {
    status = 429;
    headers['retry-after'] = '1';
  } else if (step !== undefined) status = Number(step);
  res.writeHead(status, headers);
  res.end(JSON.stringify({ ok: status < 400 }));
  return true;
}

before(async () => {
  site = await serve(flaky);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  site?.server.close();
});

/** Opens a test page, waits for the `window.__results` it publishes, and answers them; the
 * page must raise no uncaught error on the way. */
async function pageResults(path, timeout = 60_000) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${site.url}${path}`);
  await page.waitForFunction(() => window.__results !== undefined, null, { timeout });
  const results = await page.evaluate(() => window.__results);
  assert.deepEqual(errors, []);
  return results;
}

for (const module of ['lean', 'full']) {
  test(`conformance vectors in Chromium, ${module} module: every step and byte-identical traces`, async () => {
    const results = await pageResults(`/test/browser/conformance.html?module=${module}`);
    assert.equal(results.error, undefined, results.error);
    const names = Object.keys(results);
    assert.ok(names.length >= 60, `ran ${names.length} vectors`);
    const traceDir = join(root, 'target', 'conformance', `chromium-wasm-${module}`);
    mkdirSync(traceDir, { recursive: true });
    // Each module cannot run exactly the vectors that reach a part it leaves out.
    const missing = names.filter((n) => results[n].missing).sort();
    assert.deepEqual(missing, Object.keys(LEFT_OUT[module]).sort());
    for (const name of names.filter((n) => !results[n].missing)) {
      const v = JSON.parse(readFileSync(join(root, 'tests', 'vectors', `${name}.json`), 'utf8'));
      const { outputs, trace } = results[name];
      v.steps.forEach((step, i) => assert.deepEqual(canonical(outputs[i]), canonical(step.expect), `${name} step ${i}`));
      writeFileSync(join(traceDir, `${name}.trace.json`), trace);
      const rust = join(root, 'target', 'conformance', 'rust', `${name}.trace.json`);
      assert.ok(existsSync(rust), `no Rust trace for ${name}`);
      assert.equal(trace, readFileSync(rust, 'utf8'), `${name}: trace differs from the Rust runner`);
    }
  });
}

test('the shell in Chromium: resilientFetch against a flaky local server, seed 000 examples', async () => {
  const r = await pageResults('/test/browser/shell.html');
  assert.deepEqual(r['5xx burst then recovery'], { ok: true, value: 200 });
  assert.equal(r['429 with Retry-After'].value.status, 200);
  assert.ok(r['429 with Retry-After'].value.waited >= 900, JSON.stringify(r['429 with Retry-After']));
  assert.deepEqual(r['hang aborted by the timeout'], { ok: true, value: 200 });
  assert.deepEqual(r['always hangs: TimeoutError'], { ok: true, value: 'TimeoutError' });
  assert.deepEqual(r['seed 000 breaker fallback'], { ok: true, value: 'fallback' });
  assert.equal(r['seed 000 backoff on the virtual clock'].value.ok, true);
  assert.deepEqual(r['openaiCircuit preset'], { ok: true, value: 'CLOSED' });
});

for (const variant of ['standard', 'legacy']) {
  for (const module of ['lean', 'full']) {
    test(`every seed 000/002/003/004 example in Chromium (${variant} decorators), through the ${module} wasm module`, async () => {
      const results = await pageResults(`/test/browser/seeds.html?variant=${variant}&module=${module}`, 120_000);
      // The lean module runs every example of seeds 000, 002 and 004 (a page's breakers, retries,
      // fetches and bulkheads); seed 003's resilience manager, presets and Prometheus text need
      // `seawall/full`, and the lean module says so in a typed error.
      const needsFull = (r) => module === 'lean' && r.name.startsWith('seed 003') && /NOT_IN_MODULE|seawall\/full/.test(r.error ?? '');
      const failed = results.filter((r) => !r.ok && !needsFull(r));
      assert.deepEqual(failed, [], failed.map((r) => `${r.name}: ${r.error}`).join('\n'));
      if (module === 'lean') assert.ok(results.filter((r) => r.name.startsWith('seed 003') && r.ok).length >= 1, 'some seed 003 examples run on the lean module');
      // The same examples as the Node run: every test() in the compiled file ran here.
      const source = readFileSync(join(root, 'bindings-node', 'test', 'seeds', `out-${variant}`, 'seed-examples.js'), 'utf8');
      assert.equal(results.length, source.match(/^test\(/gm).length);
      assert.ok(results.length >= 20, `ran ${results.length}`);
    });
  }
}
