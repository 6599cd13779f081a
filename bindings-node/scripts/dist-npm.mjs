// The npm packages in napi-rs's layout, from a packed `seawall` tarball and the addons built for
// each platform (make dist): one package per platform (`seawall-linux-x64-gnu`, …: os, cpu and
// libc declared, so npm installs only the matching one) and the main package listing them all
// as optionalDependencies, without addons or install hook of its own. Where no platform package
// fits, the main package runs on its wasm backend.
// Usage: node dist-npm.mjs <main.tgz> <addons dir> <out dir>
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const [mainTgz, addons, out] = process.argv.slice(2).map((p) => resolve(p));
mkdirSync(out, { recursive: true });
const work = mkdtempSync(join(tmpdir(), 'seawall-dist-'));
const npmPack = (dir) => execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', out], { cwd: dir, encoding: 'utf8' }).trim().split('\n').pop();

/** napi-rs platform name → npm's os, cpu and libc. */
const platforms = {
  'linux-x64-gnu': { os: 'linux', cpu: 'x64', libc: 'glibc' },
  'linux-arm64-gnu': { os: 'linux', cpu: 'arm64', libc: 'glibc' },
  'linux-x64-musl': { os: 'linux', cpu: 'x64', libc: 'musl' },
  'linux-arm64-musl': { os: 'linux', cpu: 'arm64', libc: 'musl' },
  'darwin-x64': { os: 'darwin', cpu: 'x64' },
  'darwin-arm64': { os: 'darwin', cpu: 'arm64' },
  'win32-x64-msvc': { os: 'win32', cpu: 'x64' },
};

execFileSync('tar', ['xzf', mainTgz, '-C', work]);
const mainDir = join(work, 'package');
const main = JSON.parse(readFileSync(join(mainDir, 'package.json'), 'utf8'));

const built = [];
for (const file of readdirSync(addons).filter((f) => f.endsWith('.node')).sort()) {
  const platform = file.replace(/^seawall\./, '').replace(/\.node$/, '');
  const p = platforms[platform];
  if (p === undefined) throw new Error(`dist-npm: no npm platform for ${file}`);
  const dir = join(work, platform);
  mkdirSync(dir);
  copyFileSync(join(addons, file), join(dir, file));
  const pkg = {
    name: `${main.name}-${platform}`,
    version: main.version,
    description: `The ${platform} native addon of ${main.name} (installed by it; not used alone)`,
    license: main.license,
    os: [p.os],
    cpu: [p.cpu],
    ...(p.libc ? { libc: [p.libc] } : {}),
    main: file,
    files: [file],
    engines: main.engines,
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2) + '\n');
  built.push({ name: pkg.name, tgz: npmPack(dir) });
}

// The main package: no addons (they come from the platform packages), no install hook.
for (const f of readdirSync(join(mainDir, 'native')).filter((f) => f.endsWith('.node'))) rmSync(join(mainDir, 'native', f));
main.files = main.files.filter((f) => f !== 'native/*.node' && f !== 'scripts/install.cjs');
rmSync(join(mainDir, 'scripts'), { recursive: true, force: true });
delete main.scripts;
delete main.devDependencies;
main.optionalDependencies = Object.fromEntries(built.map((b) => [b.name, main.version]));
writeFileSync(join(mainDir, 'package.json'), JSON.stringify(main, null, 2) + '\n');
const mainOut = npmPack(mainDir);
rmSync(work, { recursive: true, force: true });
console.log(`dist-npm: ${mainOut} (optionalDependencies: ${built.map((b) => b.name).join(', ')})`);
for (const b of built) console.log(`dist-npm: ${b.tgz}`);
