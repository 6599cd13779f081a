/**
 * Per-call deadlines on the real clock, one host timer per duration: a call that ends in time
 * costs a link and an unlink, not a timer set and cleared (~0.6 µs of a ~1.6 µs guarded call on
 * Node 20, where a duration's timer list is made and scheduled anew each time it empties). The
 * shared timer keeps the process alive only while a deadline waits (Node's and Bun's `ref` /
 * `unref`). Installed by Node's entries (a browser page bundles none of it); a host whose timers
 * are plain numbers (Deno) keeps a timer per call, as do other clocks (a virtual one counts its
 * own timers) and durations past the few kept.
 */
import { type Clock, realClock } from './clock.js';
import { DeadlineList, type Listed } from './deadline-list.js';
import { callListener } from './emitter.js';

interface Deadline extends Listed {
  fire: () => void;
}

/** What a Node or Bun timer offers besides its id. */
interface HostTimer {
  ref?(): unknown;
  unref?(): unknown;
}

/** setTimeout's longest delay. */
const MAX_TIMER_MS = 2_147_483_647;
/** Durations kept, each with its list; others (a request's deadline left, say) get their own timer. */
const MAX_LISTS = 16;
const lists = new Map<number, DurationDeadlines>();
/** Whether this host's timers can stop keeping the process alive (unknown until one is made). */
let unrefable: boolean | undefined;

/** The deadlines of one duration (each its start plus the same duration, so in order as they come). */
class DurationDeadlines {
  readonly #list = new DeadlineList<Deadline>();
  #timer: HostTimer | undefined;
  /** Whether the timer keeps the process alive (while a deadline waits). */
  #held = false;

  add(d: Deadline): void {
    this.#list.insert(d);
    if (this.#timer === undefined) this.#arm(d.at);
    else if (!this.#held) {
      this.#timer.ref?.();
      this.#held = true;
    }
  }

  remove(d: Deadline): void {
    if (!d.live) return;
    d.live = false;
    this.#list.unlink(d);
    // Armed for a deadline no longer waited for: it fires, finds nothing due, and stops.
    if (this.#list.head === undefined && this.#held) {
      this.#timer?.unref?.();
      this.#held = false;
    }
  }

  #arm(at: number): void {
    const timer = setTimeout(() => this.#due(), Math.max(0, at - performance.now())) as unknown as HostTimer;
    this.#timer = timer;
    this.#held = true;
  }

  #due(): void {
    this.#timer = undefined;
    this.#held = false;
    // Never early: a host timer may fire a fraction of a millisecond before the clock says.
    const list = this.#list;
    const due = list.takeDue(performance.now());
    if (list.head !== undefined) this.#arm(list.head.at);
    // Each as if on a timer of its own: one that throws (a listener on its call's signal) neither
    // keeps the others from firing nor is lost.
    for (const d of due) callListener(d.fire, undefined);
  }
}

/**
 * Calls `fire` at `at` (= now + `ms`; on the real clock, `performance.now()`'s) on clock `c`,
 * which keeps the process alive meanwhile; answers a function that cancels it.
 */
export function setDeadline(c: Clock, ms: number, at: number, fire: () => void): () => void {
  if (c !== realClock || unrefable === false || !Number.isInteger(ms) || ms < 0 || ms > MAX_TIMER_MS) return c.setTimer(ms, fire);
  let list = lists.get(ms);
  if (list === undefined) {
    if (lists.size >= MAX_LISTS) return c.setTimer(ms, fire);
    if (unrefable === undefined) {
      const probe = setTimeout(() => {}, 0) as unknown as HostTimer;
      clearTimeout(probe as Parameters<typeof clearTimeout>[0]);
      unrefable = typeof probe?.unref === 'function' && typeof probe.ref === 'function';
      if (!unrefable) return c.setTimer(ms, fire);
    }
    list = new DurationDeadlines();
    lists.set(ms, list);
  }
  const d: Deadline = { at, fire, live: true, prev: undefined, next: undefined };
  list.add(d);
  const of = list;
  return () => of.remove(d);
}
