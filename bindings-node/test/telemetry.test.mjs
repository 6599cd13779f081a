// The events Seawall publishes on node:diagnostics_channel, against the expectation Python's
// logger is checked against too (tests/telemetry/events.json): one scripted run on the virtual
// clock (fixtures/scripted-run.mjs). With
// SEAWALL_BLESS=1 and no expectation yet, this run writes it.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { useRealClock, useVirtualClock } from 'seawall';
import { scriptedRun } from './fixtures/scripted-run.mjs';

const expected = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'tests', 'telemetry', 'events.json');
const CHANNELS = ['seawall:retry:scheduled', 'seawall:retry:gave-up', 'seawall:breaker:state-changed', 'seawall:call:rejected'];

test('the same events as Python logs, in the same order, with the same fields', async () => {
  const events = [];
  const listener = (message) => events.push(message);
  for (const c of CHANNELS) subscribe(c, listener);
  const clock = useVirtualClock({ autoAdvance: true });
  try {
    await scriptedRun(clock);
  } finally {
    for (const c of CHANNELS) unsubscribe(c, listener);
    useRealClock();
  }
  if (!existsSync(expected) && process.env.SEAWALL_BLESS === '1') writeFileSync(expected, `${JSON.stringify(events, null, 2)}\n`);
  assert.deepEqual(events, JSON.parse(readFileSync(expected, 'utf8')));
});
