// A static server on 127.0.0.1 for the browser tests: the package (dist, wasm, test pages) and
// the shared vectors (/vectors/). Ends when the test process ends.
import { createServer } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const repo = join(pkg, '..');
const vectors = join(repo, 'tests', 'vectors');
const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html', '.json': 'application/json', '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml' };

export async function serve(extra = () => false) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (extra(url, req, res)) return;
    if (url.pathname === '/vectors/index.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify(readdirSync(vectors).filter((f) => f.endsWith('.json')).sort().map((f) => f.slice(0, -5))));
    }
    // /vectors/ → tests/vectors, /examples/ → the repository's examples, the rest → the package.
    const base = url.pathname.startsWith('/vectors/') ? vectors : url.pathname.startsWith('/examples/') ? repo : pkg;
    const rel = url.pathname.startsWith('/vectors/') ? url.pathname.slice('/vectors/'.length) : url.pathname;
    let file = normalize(join(base, rel));
    if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(base) || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404);
      return res.end('not found');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Debian's Chromium, headless, through playwright-core (never a browser download). */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
}
