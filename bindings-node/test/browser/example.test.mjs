// Clicks through examples/browser/ in headless Chromium like a person would, checks what the
// page shows, and saves a screenshot under target/test-output/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { flakyApi, resetFlakyApi } from '../../../examples/browser/flaky.mjs';
import { launchChromium, serve } from './serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
let browser;
let site;

before(async () => {
  resetFlakyApi();
  site = await serve(flakyApi);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  site?.server.close();
});

test('the browser example shows attempts, waits and the breaker opening', async () => {
  const page = await browser.newPage({ viewport: { width: 960, height: 760 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${site.url}/examples/browser/`);
  await page.waitForFunction(() => window.__ready === true);

  await page.click('#call');
  await page.waitForSelector('#timeline li.ok:has-text("quote #1")');
  assert.equal(await page.textContent('#state'), 'CLOSED');

  await page.click('[data-mode="failing"]');
  await page.click('#call');
  await page.waitForSelector('#timeline li:has-text("gave up")', { timeout: 20_000 });
  assert.equal(await page.textContent('#state'), 'OPEN', 'three failed attempts open the breaker');
  assert.ok((await page.locator('#timeline li.wait').count()) >= 1, 'the backoff waits are shown');

  await page.click('#call');
  await page.waitForSelector('#timeline li.reject:has-text("fallback")');
  assert.match(await page.textContent('#rejected'), /rejected by the breaker 1/);
  assert.match(await page.textContent('#retry'), /probes again in \d+ s/);

  const out = join(root, 'target', 'test-output');
  mkdirSync(out, { recursive: true });
  await page.screenshot({ path: join(out, 'browser-example.png'), fullPage: true });
  assert.deepEqual(errors, []);
});
