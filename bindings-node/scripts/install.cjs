#!/usr/bin/env node
// `npm install` hook, for checkouts only (npm install <path>): it builds what is missing, the
// TypeScript shell with the package's dev tools and the addon with cargo. A published package
// has no such hook (its addon comes from the platform package, else it runs on wasm). The
// addon is optional: without Rust, or where the build fails, the package runs on its wasm
// backend, so this never fails the install for it.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const pkg = path.join(__dirname, '..');
const nativeDir = path.join(pkg, 'native');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: 'inherit', cwd: pkg, ...opts });

function hasAddon() {
  return fs.existsSync(nativeDir) && fs.readdirSync(nativeDir).some((f) => f.endsWith('.node'));
}

function platformSuffix() {
  const abi = process.platform === 'linux' ? (process.report?.getReport().header.glibcVersionRuntime ? '-gnu' : '-musl') : process.platform === 'win32' ? '-msvc' : '';
  return `${process.platform}-${process.arch}${abi}`;
}

function buildAddon() {
  if (!fs.existsSync(path.join(pkg, 'Cargo.toml'))) return;
  const host = execFileSync('rustc', ['-vV'], { encoding: 'utf8' }).match(/^host: (.+)$/m)[1];
  // Same --target as `napi build`, so both share one cargo cache.
  run('cargo', ['build', '--release', '-p', 'seawall-node', '--target', host, '--manifest-path', path.join(pkg, 'Cargo.toml')]);
  const meta = JSON.parse(execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps', '--manifest-path', path.join(pkg, 'Cargo.toml')], { encoding: 'utf8' }));
  const lib = { linux: 'libseawall_node.so', darwin: 'libseawall_node.dylib', win32: 'seawall_node.dll' }[process.platform];
  const built = path.join(meta.target_directory, host, 'release', lib);
  fs.mkdirSync(nativeDir, { recursive: true });
  fs.copyFileSync(built, path.join(nativeDir, `seawall.${platformSuffix()}.node`));
}

function buildShell() {
  if (!fs.existsSync(path.join(pkg, 'node_modules', 'typescript'))) {
    run('npm', ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund']);
  }
  run(process.execPath, [path.join(pkg, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  run(process.execPath, [path.join(pkg, 'scripts', 'build-cjs.mjs')]);
}

try {
  if (!fs.existsSync(path.join(pkg, 'dist', 'cjs', 'index.cjs')) && fs.existsSync(path.join(pkg, 'ts'))) buildShell();
} catch (e) {
  console.error(String(e && e.message ? e.message : e));
  process.exit(1);
}
try {
  if (!hasAddon()) buildAddon();
} catch (e) {
  console.warn(`seawall: no native addon for ${platformSuffix()} (${String(e && e.message ? e.message : e).split('\n')[0]}); the package runs on its wasm backend`);
}
