// The demo's fault script (client-scenario.json) as a function of time: what the flaky server
// answers, live on 127.0.0.1 and in the virtual-clock replays.
import { readFileSync } from 'node:fs';

export const scenario = JSON.parse(readFileSync(new URL('./client-scenario.json', import.meta.url), 'utf8'));

/** The phase in force `ms` after the start. */
export function phaseAt(ms) {
  return scenario.phases.find((p) => p.untilMs === undefined || ms < p.untilMs);
}

/** Rounds to whole ms and prints seconds with three decimals, the same way client.py does. */
export function stamp(ms) {
  const n = Math.floor(ms + 0.5);
  return `${Math.floor(n / 1000)}.${String(n % 1000).padStart(3, '0')}s`;
}
