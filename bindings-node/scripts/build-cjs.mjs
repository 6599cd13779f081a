// Bundles the ESM build into one CommonJS file for `require('seawall')`. The native loader stays
// a separate file (`native/index.cjs`), reached by the same relative path from dist/cjs.
import { build } from 'esbuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const shim = join(pkg, 'dist', 'cjs', 'import-meta-url.js');
mkdirSync(dirname(shim), { recursive: true });
writeFileSync(shim, "export const importMetaUrl = require('node:url').pathToFileURL(__filename).href;\n");

await build({
  entryPoints: [join(pkg, 'dist', 'esm', 'entry.node.js')],
  outfile: join(pkg, 'dist', 'cjs', 'index.cjs'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  define: { 'import.meta.url': 'importMetaUrl' },
  inject: [shim],
  logLevel: 'warning',
});
// Types for require(): the same declarations as the ESM build.
writeFileSync(join(pkg, 'dist', 'cjs', 'index.d.cts'), "export * from '../esm/entry.node.js';\n");
