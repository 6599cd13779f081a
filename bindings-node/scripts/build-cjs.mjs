import { build } from 'esbuild';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const shim = join(pkg, 'dist', 'cjs', 'import-meta-url.js');
mkdirSync(dirname(shim), { recursive: true });
writeFileSync(shim, "export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;\n");

// `require('seawall')` and `require('seawall/wasm')`: each entry bundled into one CommonJS file
// (the wasm glue inside; the native loader stays a separate file, `native/index.cjs`, reached by
// the same relative path from dist/cjs, as are the .wasm bytes).
for (const [entry, out] of [['entry.node.js', 'index.cjs'], ['entry.wasm-node.js', 'wasm.cjs']]) {
  await build({
    entryPoints: [join(pkg, 'dist', 'esm', entry)],
    outfile: join(pkg, 'dist', 'cjs', out),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    define: { 'import.meta.url': 'importMetaUrl' },
    inject: [shim],
    logLevel: 'warning',
  });
}
// Types for require(): the same declarations as the ESM build.
writeFileSync(join(pkg, 'dist', 'cjs', 'index.d.cts'), "export * from '../esm/entry.node.js';\n");
writeFileSync(join(pkg, 'dist', 'cjs', 'wasm.d.cts'), "export * from '../esm/entry.wasm-node.js';\n");

// `seawall/inline`: the wasm module as base64 in a module of its own (read by entry.inline.js).
const wasm = readFileSync(join(pkg, 'wasm', 'seawall_wasm_bg.wasm'));
writeFileSync(join(pkg, 'dist', 'esm', 'wasm-inline.js'), `export const wasmBase64 = ${JSON.stringify(wasm.toString('base64'))};\n`);
