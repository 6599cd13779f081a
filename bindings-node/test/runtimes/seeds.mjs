// The seeds' TypeScript examples (compiled by tsc with standard and with legacy decorators, the
// node:test files Node runs) under Bun's or Deno's own test runner, which read node:test; their
// counts printed as `# pass N` / `# fail N`, as node --test prints them.
//   node test/runtimes/seeds.mjs bun|deno PATH_TO_RUNTIME
import { spawnSync } from 'node:child_process';

const [runtime, bin] = process.argv.slice(2);
const files = ['test/seeds/out-standard/seed-examples.js', 'test/seeds/out-legacy/seed-examples.js'];
let pass = 0;
let fail = 0;
for (const file of files) {
  const args = runtime === 'deno' ? ['test', '-A', '--reporter=tap', file] : ['test', `./${file}`];
  const run = spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 300_000 });
  const text = `${run.stdout}${run.stderr}`;
  process.stdout.write(text);
  // Deno's TAP: a line per test; Bun: " N pass" / " N fail".
  const passed = runtime === 'deno' ? (text.match(/^ok \d+ /gm) ?? []).length : Number(text.match(/^ *(\d+) pass$/m)?.[1] ?? 0);
  const failed = runtime === 'deno' ? (text.match(/^not ok \d+ /gm) ?? []).length : Number(text.match(/^ *(\d+) fail$/m)?.[1] ?? 0);
  // A runner that ended badly without reporting a failure still fails.
  const broken = run.status !== 0 && failed === 0 ? 1 : 0;
  console.log(`${runtime} ${file}: ${passed} passed, ${failed + broken} failed`);
  pass += passed;
  fail += failed + broken;
}
console.log(`# pass ${pass}`);
console.log(`# fail ${fail}`);
if (fail > 0) process.exitCode = 1;
