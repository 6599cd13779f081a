#!/usr/bin/env node
// `prepack`: refuses to pack a checkout whose build is missing or older than its sources, so that
// `npm pack` / `npm publish` never ship a package without its JavaScript or its wasm fallback.
// (The addon is optional: where none loads, the package runs on wasm.) Build with `make build-node`.
'use strict';
const fs = require('fs');
const path = require('path');

const pkg = path.join(__dirname, '..');
const built = ['dist/esm/entry.node.js', 'dist/esm/entry.browser.js', 'dist/esm/entry.full.js', 'dist/esm/entry.wasm-node.js', 'dist/esm/entry.inline.js', 'dist/esm/entry.init.js', 'dist/esm/wasm-inline.js', 'dist/cjs/index.cjs', 'dist/cjs/wasm.cjs', 'dist/cjs/index.mjs', 'dist/cjs/wasm.mjs', 'wasm/seawall_wasm.js', 'wasm/seawall_wasm_full.js', 'wasm/seawall_wasm_bg.wasm', 'wasm/seawall_wasm_full_bg.wasm', 'wasm/seawall_wasm_fleet_bg.wasm'];
const missing = built.filter((f) => !fs.existsSync(path.join(pkg, f)));
const problems = missing.map((f) => `${f} is missing`);
if (missing.length === 0) {
  const oldest = Math.min(...built.filter((f) => f.startsWith('dist/')).map((f) => fs.statSync(path.join(pkg, f)).mtimeMs));
  for (const f of fs.readdirSync(path.join(pkg, 'ts'))) {
    if (fs.statSync(path.join(pkg, 'ts', f)).mtimeMs > oldest) problems.push(`ts/${f} is newer than dist/`);
  }
}
if (problems.length > 0) {
  console.error(`seawall: not packing an incomplete build (${problems.join('; ')}). Run \`make build-node\` first.`);
  process.exit(1);
}
