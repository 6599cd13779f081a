// Child processes for `make demo`'s steps: each runs to its end or is killed at its deadline.
import { spawn } from 'node:child_process';

const CHILD_DEADLINE_MS = 60_000;

/**
 * Runs `command` to its end (killed after a minute); answers `{ code, out, err }`. With `label`,
 * streams the child's stdout lines under it as they come.
 */
export function runChild(command, args, { label } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      if (label === undefined) return;
      partial += chunk;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const line of lines) console.log(`  ${label} ${line}`);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk) => (err += chunk));
    const timer = setTimeout(() => {
      err += `\n(killed after ${CHILD_DEADLINE_MS} ms)`;
      child.kill('SIGKILL');
    }, CHILD_DEADLINE_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
