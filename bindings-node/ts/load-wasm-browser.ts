/**
 * The wasm backend in browsers (and workers), from the module's bytes or a fetched response.
 * Each entry imports its glue statically (so every bundler includes it without configuration)
 * and hands it over: the lean module's and the whole one's are two copies of one file, because
 * the glue keeps a single instance and a page that loads both entries needs each module apart.
 */
import { installBackend, wholeInstalled } from './backend.js';
import { wasmBackend, type WasmGlue } from './backend-wasm.js';

/** Installs the module `source` answers (its bytes or a fetched response; asked for only when
 * it is to be loaded). `whole`: the module has every part (`seawall/full`'s), not only the lean
 * one's; a lean module is not loaded once the whole one is (a page that imports both entries). */
export async function installWasmBackend(glue: unknown, source: () => BufferSource | Response | Promise<BufferSource | Response>, whole = false): Promise<void> {
  if (!whole && wholeInstalled()) return;
  const g = glue as WasmGlue;
  const { memory } = await g.default({ module_or_path: await source() });
  installBackend(wasmBackend(g, memory), whole);
}

/** Fetches the module beside the package's script; a failure names the URL and the fix. */
export async function fetchWasm(url: URL): Promise<Response> {
  const file = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
  const fix =
    'Your bundler did not emit it beside your script (esbuild and Rollup leave `new URL(…, import.meta.url)` alone): ' +
    (file === 'seawall_wasm_bg.wasm' ? "import from 'seawall/inline' instead (the module embedded in the JavaScript: no file to serve), or " : '') +
    `copy node_modules/seawall/wasm/${file} to that URL.`;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`seawall: could not fetch its WebAssembly module from ${url.href} (${e instanceof Error ? e.message : String(e)}). ${fix}`, { cause: e });
  }
  if (!response.ok) throw new Error(`seawall: could not fetch its WebAssembly module from ${url.href} (HTTP ${response.status}). ${fix}`);
  return response;
}
