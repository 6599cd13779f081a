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
// `import 'seawall'` (and `seawall/wasm`) in Node: an ES module over the CommonJS bundle, not a
// second copy of the shell. A process that both imports and requires seawall (an ES module app
// with a CommonJS library) then holds one engine, one registry and one clock, and a breaker made
// on either side is a CircuitBreaker to the other. The names: the ES entry's own exports.
for (const [entry, cjs, mjs] of [['entry.node.js', 'index.cjs', 'index.mjs'], ['entry.wasm-node.js', 'wasm.cjs', 'wasm.mjs']]) {
  const { metafile } = await build({
    entryPoints: [join(pkg, 'dist', 'esm', entry)],
    outdir: join(pkg, 'dist', 'names'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'warning',
  });
  const names = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined).exports;
  if (names.length === 0 || names.includes('default')) throw new Error(`${entry}: unexpected exports ${names}`);
  writeFileSync(join(pkg, 'dist', 'cjs', mjs), `import shell from './${cjs}';\n\nexport const { ${names.join(', ')} } = shell;\n`);
}

// Types for require(): the same declarations as the ESM build.
writeFileSync(join(pkg, 'dist', 'cjs', 'index.d.cts'), "export * from '../esm/entry.node.js';\n");
writeFileSync(join(pkg, 'dist', 'cjs', 'wasm.d.cts'), "export * from '../esm/entry.wasm-node.js';\n");

// `seawall/inline`: the wasm module as base64 in a module of its own (read by entry.inline.js).
const wasm = readFileSync(join(pkg, 'wasm', 'seawall_wasm_bg.wasm'));
writeFileSync(join(pkg, 'dist', 'esm', 'wasm-inline.js'), `export const wasmBase64 = ${JSON.stringify(wasm.toString('base64'))};\n`);
