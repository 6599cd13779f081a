/**
 * The napi backend: the generated addon plus the four hot paths as raw functions over shared
 * slots (see bindings-node/src/lib.rs). Only argument placement lives here; every answer is the
 * engine's.
 */
import { createRequire } from 'node:module';

import type { Backend, Now } from './backend.js';

type Native = Omit<Backend, 'kind' | 'out' | 'breakerAcquire' | 'breakerRecord' | 'bulkheadAcquire' | 'bulkheadRelease' | 'hedgeBegin' | 'now'> & {
  initSlots(slots: Float64Array): void;
  hotFunction(name: string): () => void;
};

const SLOTS = Symbol.for('seawall.napi.slots');

export function loadNapiBackend(): Backend {
  const require = createRequire(import.meta.url);
  const native = require('../../native/index.cjs') as Native;
  // Slots 0–7 are arguments (5: read the host clock instead of slot 1), 8–11 answers. The addon
  // keeps one pointer per process, so the ESM and CommonJS copies of this shell (both loaded when
  // one dependency imports seawall and another requires it) must share one array: it hangs off
  // the addon's exports, which both copies get from the same require cache, and lives as long.
  const shared = native as Native & { [SLOTS]?: Float64Array };
  let slots = shared[SLOTS];
  if (slots === undefined) {
    slots = new Float64Array(new ArrayBuffer(16 * 8));
    native.initSlots(slots);
    shared[SLOTS] = slots;
  }
  const acquire = native.hotFunction('breakerAcquire');
  const record = native.hotFunction('breakerRecord');
  const bAcquire = native.hotFunction('bulkheadAcquire');
  const bRelease = native.hotFunction('bulkheadRelease');
  const hBegin = native.hotFunction('hedgeBegin');
  const hStep = native.hotFunction('hedgeStep');
  const hSettle = native.hotFunction('hedgeSettle');
  const aAcquire = native.hotFunction('adaptiveAcquire');
  const aRelease = native.hotFunction('adaptiveRelease');
  const now = native.hotFunction('now');
  const out = slots.subarray(8, 12);
  /** The handle and the time every hot path takes (slot 5: "read the host clock"). */
  const place = (h: number, t: Now): void => {
    slots[0] = h;
    slots[1] = t ?? 0;
    slots[5] = t === undefined ? 1 : 0;
  };
  return Object.assign(Object.create(native) as Native, {
    kind: 'napi' as const,
    out,
    breakerAcquire(h: number, t: Now): number {
      place(h, t);
      acquire();
      return slots[8] as number;
    },
    breakerRecord(h: number, permit: number, outcome: number, t: Now, startedAt: number): number {
      place(h, t);
      slots[2] = permit;
      slots[3] = outcome;
      slots[4] = startedAt;
      record();
      return slots[8] as number;
    },
    bulkheadAcquire(h: number, t: Now): number {
      place(h, t);
      bAcquire();
      return slots[8] as number;
    },
    bulkheadRelease(h: number, permit: number, t: Now): number {
      place(h, t);
      slots[2] = permit;
      bRelease();
      return slots[8] as number;
    },
    // A hedged call's steps; NaN is an error, raised by asking the cold function again.
    hedgeBegin(policy: number, t: Now): number {
      place(policy, t);
      hBegin();
      if (Number.isNaN(slots[8])) native.hedgeStart(policy, t);
      return slots[8] as number;
    },
    hedgeStep(call: number, t: Now): number {
      place(call, t);
      hStep();
      const step = slots[8] as number;
      return Number.isNaN(step) ? native.hedgeStep(call, t) : step;
    },
    hedgeSettle(call: number, attempt: number, outcome: number, t: Now): number {
      place(call, t);
      slots[2] = attempt;
      slots[3] = outcome;
      hSettle();
      const step = slots[8] as number;
      return Number.isNaN(step) ? native.hedgeSettle(call, attempt, outcome, t) : step;
    },
    // An adaptive limit's admissions, per request at a service's door.
    adaptiveAcquire(h: number, partition: number, t: Now): number {
      place(h, t);
      slots[2] = partition;
      aAcquire();
      return slots[8] as number;
    },
    adaptiveRelease(h: number, permit: number, outcome: number, t: Now): void {
      place(h, t);
      slots[2] = permit;
      slots[3] = outcome;
      aRelease();
      // NaN: the core refused it (a permit given back twice); the cold path raises its error.
      if (Number.isNaN(slots[8])) native.adaptiveRelease(h, permit, outcome, t);
    },
    now(): number {
      now();
      return slots[11] as number;
    },
  }) as Backend;
}
