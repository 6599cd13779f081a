/**
 * Fleet syncs. A breaker's: every `syncInterval` one Redis round trip (one Lua script) writes this
 * replica's report and reads every replica's, with the fleet's "opened"/"closed" marks; the core
 * decides what they mean (`core/src/fleet.rs`). A rate limiter's or a retry budget's: one script
 * per interval reports this replica's demand and takes its share of the limit or of the budget's
 * trickle (`core/src/fleet_quota.rs`). Nothing on the call path waits for Redis: calls
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

/** What the breaker lets its sync do: every decision is the core's sync driver's. */
export interface FleetPort {
  join(prefix: string, replica: string): void;
  /** The next command (JSON), or "" when the round is over. */
  next(): string;
  reply(json: string): void;
  failed(): void;
  wanted(): boolean;
  status(): FleetStatus;
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
  keys: { reports: string; marks: string; lease: string; quota: string; budget: string };
  scripts: { sync: string; mark: string; release: string; quota: string };
}

/** The core's keys and scripts for a policy's name: the same from Python, so a mixed fleet shares them. */
function fleetStore(options: { keyPrefix?: string }, name: string): FleetStore {
  return JSON.parse(backend().fleetStore(options.keyPrefix ?? 'seawall', name)) as FleetStore;
}

function replicaId(): string {
  return `${(globalThis as { process?: { pid?: number } }).process?.pid ?? 0}-${++replicaCount}-${Math.random().toString(36).slice(2, 10)}`;
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

/**
 * A sync's rounds: one at once, then one every `interval` on the clock in use; never two at once
 * (a round waits for the one before). A round must not throw: Redis failing never fails a call.
 */
class Rounds {
  readonly #interval: number;
  readonly #round: () => Promise<void>;
  #cancel: (() => void) | undefined;
  #current: Promise<void> = Promise.resolve();
  stopped = false;

  constructor(interval: number, round: () => Promise<void>) {
    this.#interval = interval;
    this.#round = round;
  }

  /** The first round at once (on the clock in use), the next ones every interval. */
  start(): void {
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.stopped) return;
    this.#cancel?.();
    this.#cancel = backgroundTimer(ms, () => void this.now());
  }

  /** One round, after the one in progress if any. */
  now(): Promise<void> {
    this.#current = this.#current.then(async () => {
      if (this.stopped) return;
      try {
        await this.#round();
      } finally {
        this.#schedule(this.#interval);
      }
    });
    return this.#current;
  }

  stop(): void {
    this.stopped = true;
    this.#cancel?.();
  }

  /**
   * A Redis answer within one interval, or a failure (a slow Redis must not hold the fleet).
   * Real time even under a virtual clock: it bounds a real round trip.
   */
  deadline<T>(p: Promise<T>): Promise<T> {
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

/** What every sync offers: one round now, and stopping. Its rounds run `round`; a subclass
 * calls `rounds.start()` once its own fields are set. */
abstract class Sync {
  protected readonly rounds: Rounds;

  constructor(interval: number) {
    this.rounds = new Rounds(interval, () => this.round());
  }

  protected abstract round(): Promise<void>;

  /** Stops syncing (the policy goes on alone). */
  stop(): void {
    this.rounds.stop();
  }

  /** One sync, after the one in progress if any (the timer calls it; tests may too). */
  syncNow(): Promise<void> {
    return this.rounds.now();
  }
}

/** The store's rows (`"age|report"`) as reports with their age. */
function reportsOf(rows: string[]): object[] {
  return rows.map((row) => {
    const sep = row.indexOf('|');
    return { ...(JSON.parse(row.slice(sep + 1)) as object), ageMs: Number(row.slice(0, sep)) };
  });
}

/** A command of the core's sync driver (core/src/fleet_sync.rs). */
type SyncCommand = { eval: 'sync' | 'mark' | 'release'; keys: string[]; args: (string | number)[] } | { set: string; value: string; px: number };

/**
 * A fleet breaker's sync: the core's driver says which command to send next and what each reply
 * means (the marks this replica has for the fleet, the sync, the probe lease); this sends them,
 * each within one interval, and reports a failure or a late answer as the round's failure.
 */
export class FleetSync extends Sync {
  readonly #port: FleetPort;
  readonly #redis: RedisLike;
  readonly #scripts: FleetStore['scripts'];

  constructor(name: string, config: { syncInterval: number }, options: FleetOptions, port: FleetPort) {
    super(config.syncInterval);
    this.#port = port;
    this.#redis = options.redis;
    this.#scripts = fleetStore(options, name).scripts;
    port.join(options.keyPrefix ?? 'seawall', replicaId());
    this.rounds.start();
  }

  /** The last status, kept when the sync stops (the driver is gone then). */
  #final: FleetStatus | undefined;

  get status(): FleetStatus {
    return this.#final ?? this.#port.status();
  }

  override stop(): void {
    this.#final ??= this.#port.status();
    super.stop();
  }

  protected async round(): Promise<void> {
    const port = this.#port;
    try {
      // A round is a few commands (the marks, the sync, the lease); bounded all the same.
      for (let i = 0; i < 16; i++) {
        const next = port.next();
        if (next === '') return;
        const command = JSON.parse(next) as SyncCommand;
        const reply = await this.rounds.deadline(this.#send(command));
        // Left the fleet while Redis answered: the answer changes nothing any more.
        if (this.rounds.stopped) return;
        port.reply(JSON.stringify(reply ?? null));
      }
    } catch {
      if (!this.rounds.stopped) port.failed();
    }
  }

  #send(c: SyncCommand): Promise<unknown> {
    if ('set' in c) return this.#redis.set(c.set, c.value, 'PX', c.px, 'NX');
    return this.#redis.eval(this.#scripts[c.eval], c.keys.length, ...c.keys, ...c.args);
  }

  /** The breaker changed state: when it has news for the fleet, a round goes now. */
  onStateChange(): void {
    if (this.#port.wanted()) void this.syncNow();
  }
}

/** What a rate limiter or retry budget lets its sync do: all of it goes through the core. */
export interface QuotaPort {
  report(): string;
  sync(granted: number, reportsJson: string): void;
  alone(): void;
}

export interface QuotaStatus {
  syncs: number;
  failedSyncs: number;
}

/**
 * A shared quota's fleet sync (a rate limiter's limit, a retry budget's trickle): one script per
 * interval reports this replica's demand, takes its share (never more than the other replicas'
 * fresh shares leave of the whole) and reads the others' demands; a failed or late sync runs the
 * policy on an equal part.
 */
export class QuotaSync extends Sync {
  readonly #port: QuotaPort;
  readonly #redis: RedisLike;
  readonly #limit: number;
  readonly #staleAfter: number;
  readonly #key: string;
  readonly #script: string;
  readonly #id = replicaId();
  readonly status: QuotaStatus = { syncs: 0, failedSyncs: 0 };

  /** `key`: the store's key for this kind of quota; `limit`: the whole that the replicas share. */
  constructor(name: string, key: 'quota' | 'budget', limit: number, config: { syncInterval: number; staleAfter: number }, options: FleetOptions, port: QuotaPort) {
    super(config.syncInterval);
    this.#port = port;
    this.#redis = options.redis;
    this.#limit = limit;
    this.#staleAfter = config.staleAfter;
    const store = fleetStore(options, name);
    this.#key = store.keys[key];
    this.#script = store.scripts.quota;
    this.rounds.start();
  }

  /** Stops syncing for good: the quota then decides alone (an equal part of the whole). */
  leave(): void {
    this.stop();
    this.#port.alone();
  }

  protected async round(): Promise<void> {
    try {
      const reply = await this.rounds.deadline(this.#redis.eval(this.#script, 1, this.#key, this.#id, this.#port.report(), this.#limit, this.#staleAfter));
      if (this.rounds.stopped) return;
      const [granted, rows] = reply as [string, string[]];
      this.status.syncs++;
      this.#port.sync(Number(granted), JSON.stringify(reportsOf(rows)));
    } catch {
      this.status.failedSyncs++;
      this.#port.alone();
    }
  }
}
