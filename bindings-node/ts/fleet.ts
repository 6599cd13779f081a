/**
 * A breaker's fleet sync: every `syncInterval` one Redis round trip (one Lua script) writes this
 * replica's report and reads every replica's, with the fleet's "opened"/"closed" marks; the core
 * decides what they mean (`core/src/fleet.rs`). Nothing on the call path waits for Redis: calls
 * are decided locally, and a sync that fails or takes longer than one interval leaves the
 * breaker deciding alone until Redis answers again.
 *
 * Keys carry the policy's name in a hash tag (`seawall:{name}:…`), so one policy's keys live on
 * one Redis Cluster slot; every key has a TTL, and the probe lease is `SET NX PX`: a replica that
 * dies leaves nothing that blocks the others.
 */
import { backend } from './backend.js';
import { clock, realClock } from './clock.js';

/** The parts of an ioredis client the sync uses. */
export interface RedisLike {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<unknown>;
}

export interface FleetOptions {
  /** An ioredis client (`new Redis(...)`); optional dependency, never imported by seawall. */
  redis: RedisLike;
  /** Replicas that must see failures before the fleet opens: a count, or a fraction (default 2). */
  minReplicas?: number;
  /** How often to sync, ms (default 250). */
  syncInterval?: number;
  /** A report older than this is left out, ms (default 4 sync intervals). */
  staleAfter?: number;
  /** Key prefix (default `seawall`). */
  keyPrefix?: string;
}

/** What the breaker lets its sync do: all of it goes through the core. */
export interface FleetPort {
  report(): string;
  sync(reportsJson: string): void;
  probeLease(): number;
  command(command: 'fleetOpened' | 'fleetClosed' | 'fleetLease' | 'fleetAlone' | 'fleetShared'): void;
}

export interface FleetStatus {
  /** `shared` while Redis answers, `local` while the breaker decides alone. */
  mode: 'shared' | 'local';
  /** Replicas with a fresh report at the last sync. */
  replicas: number;
  /** Whether the last sync succeeded within its deadline. */
  fresh: boolean;
  syncs: number;
  failedSyncs: number;
}

interface FleetStore {
  keys: { reports: string; marks: string; lease: string };
  scripts: { sync: string; mark: string; release: string };
}

let replicaCount = 0;

/** A real timer that does not keep the process alive. */
function unrefTimer(ms: number, fn: () => void): () => void {
  const t = setTimeout(fn, ms);
  (t as { unref?: () => void }).unref?.();
  return () => clearTimeout(t);
}

/** The sync's schedule: the clock in use (a virtual one in tests), off the event loop's count. */
function backgroundTimer(ms: number, fn: () => void): () => void {
  const c = clock();
  return c === realClock ? unrefTimer(ms, fn) : c.setTimer(ms, fn);
}

export class FleetSync {
  readonly #port: FleetPort;
  readonly #redis: RedisLike;
  readonly #interval: number;
  readonly #staleAfter: number;
  readonly #keys: FleetStore['keys'];
  readonly #scripts: FleetStore['scripts'];
  readonly #id: string;
  #seenOpened = -Infinity;
  #seenClosed = -Infinity;
  #holdsLease = false;
  #cancel: (() => void) | undefined;
  /** The sync in progress (syncs never overlap: one waits for the one before). */
  #current: Promise<void> = Promise.resolve();
  #stopped = false;
  readonly status: FleetStatus = { mode: 'shared', replicas: 0, fresh: false, syncs: 0, failedSyncs: 0 };

  constructor(name: string, config: { syncInterval: number; staleAfter: number }, options: FleetOptions, port: FleetPort) {
    this.#port = port;
    this.#redis = options.redis;
    this.#interval = config.syncInterval;
    this.#staleAfter = config.staleAfter;
    // Keys and scripts are the core's, the same from Python: a mixed fleet shares one breaker.
    const store = JSON.parse(backend().fleetStore(options.keyPrefix ?? 'seawall', name)) as FleetStore;
    this.#keys = store.keys;
    this.#scripts = store.scripts;
    this.#id = `${(globalThis as { process?: { pid?: number } }).process?.pid ?? 0}-${++replicaCount}-${Math.random().toString(36).slice(2, 10)}`;
    this.#schedule(0);
  }

  /** Stops syncing (the breaker keeps deciding alone). */
  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#cancel?.();
    this.#cancel = backgroundTimer(ms, () => void this.syncNow());
  }

  /**
   * One sync, after the one in progress if any (the timer calls it; tests may too). Never
   * throws: Redis failing never fails a call.
   */
  syncNow(): Promise<void> {
    this.#current = this.#current.then(() => this.#sync());
    return this.#current;
  }

  async #sync(): Promise<void> {
    if (this.#stopped) return;
    try {
      const reply = await this.#deadline(
        this.#redis.eval(this.#scripts.sync, 2, this.#keys.reports, this.#keys.marks, this.#id, this.#port.report(), this.#staleAfter),
      );
      // Left the fleet while Redis answered: the answer changes nothing any more.
      if (this.#stopped) return;
      const [, rows, marks] = reply as [number, string[], string[]];
      const reports = rows.map((row) => {
        const sep = row.indexOf('|');
        return { ...(JSON.parse(row.slice(sep + 1)) as object), ageMs: Number(row.slice(0, sep)) };
      });
      if (this.status.mode === 'local') this.#port.command('fleetShared');
      this.status.mode = 'shared';
      this.status.fresh = true;
      this.status.replicas = reports.length;
      this.status.syncs++;
      this.#port.sync(JSON.stringify(reports));
      const mark = (name: string): number => {
        const i = marks.indexOf(name);
        return i >= 0 ? Number(marks[i + 1]) : -Infinity;
      };
      if (mark('opened') > this.#seenOpened) {
        this.#seenOpened = mark('opened');
        this.#port.command('fleetOpened');
      }
      if (mark('closed') > this.#seenClosed) {
        this.#seenClosed = mark('closed');
        this.#port.command('fleetClosed');
      }
      const lease = this.#port.probeLease();
      if (!Number.isNaN(lease)) {
        const taken = await this.#deadline(this.#redis.set(this.#keys.lease, this.#id, 'PX', lease, 'NX'));
        if (taken === 'OK') {
          this.#holdsLease = true;
          this.#port.command('fleetLease');
        }
      }
    } catch {
      this.status.fresh = false;
      this.status.failedSyncs++;
      if (this.status.mode === 'shared') this.#port.command('fleetAlone');
      this.status.mode = 'local';
    } finally {
      this.#schedule(this.#interval);
    }
  }

  /** The breaker changed state: announce what the fleet must learn at once. */
  onStateChange(to: string, reason: string): void {
    if (to === 'OPEN' && reason === 'FLEET_QUORUM') this.#mark('opened');
    if (to === 'CLOSED' && this.#holdsLease) {
      this.#holdsLease = false;
      this.#mark('closed');
      void this.#redis.eval(this.#scripts.release, 1, this.#keys.lease, this.#id).catch(() => {});
    }
  }

  #mark(name: 'opened' | 'closed'): void {
    void this.#redis
      .eval(this.#scripts.mark, 1, this.#keys.marks, name, this.#staleAfter)
      .then((at) => {
        // Our own mark is not news to us.
        if (name === 'opened') this.#seenOpened = Math.max(this.#seenOpened, Number(at));
        else this.#seenClosed = Math.max(this.#seenClosed, Number(at));
      })
      .catch(() => {});
  }

  /**
   * A Redis answer within one sync interval, or a failure (a slow Redis must not hold the fleet).
   * Real time even under a virtual clock: it bounds a real round trip.
   */
  #deadline<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const cancel = unrefTimer(this.#interval, () => reject(new Error('fleet sync deadline')));
      p.then(
        (v) => {
          cancel();
          resolve(v);
        },
        (e: unknown) => {
          cancel();
          reject(e);
        },
      );
    });
  }
}
