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
import { clock, nowArg, realClock } from './clock.js';
import { native } from './errors.js';
import type { FleetDrivers } from './fleet-install.js';

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
export interface FleetPort extends DriverPort {
  join(prefix: string, replica: string): void;
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

/** The sync's schedule: the clock in use (a virtual one in tests), off the event loop's count. */
function backgroundTimer(ms: number, fn: () => void): () => void {
  return clock().setTimer(ms, fn, true);
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
      const cancel = realClock.setTimer(this.#interval, () => reject(new Error('fleet sync deadline')), true);
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

/** A command of the core's sync drivers (core/src/fleet_sync.rs). */
type SyncCommand = { eval: 'sync' | 'mark' | 'release' | 'quota'; keys: string[]; args: (string | number)[] } | { set: string; value: string; px: number };

/** What a sync lets its driver do: every decision is the core's. */
interface DriverPort {
  /** The next command (JSON), or "" when the round is over. */
  next(): string;
  reply(json: string): void;
  failed(): void;
}

/**
 * A sync run by one of the core's drivers: each round, the commands it says (each answered
 * within one interval), their replies handed back; a failure or a late answer fails the round.
 */
abstract class DriverSync extends Sync {
  readonly #driver: DriverPort;
  readonly #redis: RedisLike;
  readonly #scripts: FleetStore['scripts'];

  constructor(interval: number, name: string, options: FleetOptions, driver: DriverPort) {
    super(interval);
    this.#driver = driver;
    this.#redis = options.redis;
    this.#scripts = fleetStore(options, name).scripts;
  }

  protected async round(): Promise<void> {
    const driver = this.#driver;
    try {
      // A round is a few commands at most (the marks, the sync, the lease); bounded all the same.
      for (let i = 0; i < 16; i++) {
        const next = driver.next();
        if (next === '') return;
        const c = JSON.parse(next) as SyncCommand;
        const sent = 'set' in c ? this.#redis.set(c.set, c.value, 'PX', c.px, 'NX') : this.#redis.eval(this.#scripts[c.eval], c.keys.length, ...c.keys, ...c.args);
        const reply = await this.rounds.deadline(sent);
        // Left the fleet while Redis answered: the answer changes nothing any more.
        if (this.rounds.stopped) return;
        driver.reply(JSON.stringify(reply ?? null));
      }
    } catch {
      if (!this.rounds.stopped) driver.failed();
    }
  }
}

/** A fleet breaker's sync (the core's `BreakerSync` decides). */
export class FleetSync extends DriverSync {
  readonly #port: FleetPort;

  constructor(name: string, config: { syncInterval: number }, options: FleetOptions, port: FleetPort) {
    super(config.syncInterval, name, options, port);
    this.#port = port;
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

  /** The breaker changed state: when it has news for the fleet, a round goes now. */
  onStateChange(): void {
    if (this.#port.wanted()) void this.syncNow();
  }
}

/** The port of the rate limiter's or retry budget's (`kind`) quota `h` to the core's driver. */
export function quotaPort(kind: 'rateLimit' | 'budget', h: number): QuotaPort {
  const b = backend();
  return {
    join: (store) => native(() => b.quotaSyncJoin(kind, h, store)),
    next: () => native(() => b.quotaSyncNext(kind, h, nowArg())),
    reply: (json) => native(() => b.quotaSyncReply(kind, h, json, nowArg())),
    failed: () => native(() => b.quotaSyncFailed(kind, h, nowArg())),
    leave: () => native(() => b.quotaSyncLeave(kind, h, nowArg())),
    status: () => JSON.parse(native(() => b.quotaSyncStatus(kind, h))) as QuotaStatus,
  };
}

/** What a rate limiter or retry budget lets its sync do: every decision is the core's
 * quota sync driver's. */
export interface QuotaPort extends DriverPort {
  join(store: string): void;
  leave(): void;
  status(): QuotaStatus;
}

export interface QuotaStatus {
  syncs: number;
  failedSyncs: number;
}

/**
 * A shared quota's fleet sync (a rate limiter's limit, a retry budget's trickle): one script per
 * interval reports this replica's demand, takes its share (never more than the other replicas'
 * fresh shares leave of the whole) and reads the others' demands; a failed or late sync runs the
 * policy on an equal part. The core's `QuotaSync` says what to send and what the answer means.
 */
export class QuotaSync extends DriverSync {
  readonly #port: QuotaPort;
  #final: QuotaStatus | undefined;

  constructor(name: string, config: { syncInterval: number }, options: FleetOptions, port: QuotaPort) {
    super(config.syncInterval, name, options, port);
    this.#port = port;
    port.join(JSON.stringify({ prefix: options.keyPrefix ?? 'seawall', name, replica: replicaId() }));
    this.rounds.start();
  }

  get status(): QuotaStatus {
    return this.#final ?? this.#port.status();
  }

  /** Stops syncing for good: the quota then decides alone (an equal part of the whole). */
  leave(): void {
    this.#final ??= this.#port.status();
    this.stop();
    this.#port.leave();
  }
}

/** The drivers the Node entries install (fleet-install.ts). */
export const FLEET_DRIVERS: FleetDrivers = {
  breaker: (name, config, options, port) => new FleetSync(name, config, options, port),
  quota: (kind, name, config, options, handle) => new QuotaSync(name, config, options, quotaPort(kind, handle)),
};
