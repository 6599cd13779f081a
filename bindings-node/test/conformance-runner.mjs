// The conformance runner over any `Backend`, shared by the Node test (napi, wasm) and the
// browser page (wasm in Chromium): the same code drives every backend.
// Format of the vectors: tests/vectors/README.md.

/** Whether a vector's outputs (or the error it threw) reached a part the module lacks: the lean
 * browser module answers NOT_IN_MODULE for rate limiters, budgets, presets, health and fleets. */
export function reachesMissingPart(outputsOrError) {
  if (outputsOrError instanceof Error) return outputsOrError.message.includes('"code":"NOT_IN_MODULE"');
  return JSON.stringify(outputsOrError).includes('"NOT_IN_MODULE"');
}

/** The vectors a browser's module cannot run whole, each for the part it reaches (its error
 * NOT_IN_MODULE): no browser module has fleets (a page never reaches the shared store), and the
 * lean one leaves out rate limiters, retry budgets, combined policies, presets' retry policies
 * and health. Any other vector must run there, byte-identical with the other runners. */
const IN_NO_BROWSER = {
  breaker_fleet_followers_and_lost_store: 'fleet tally',
  breaker_fleet_quorum_and_lease: 'fleet tally',
  budget_fleet_shares: 'fleet',
  fleet_sync_failed_round_keeps_its_marks: 'fleet',
  fleet_sync_misuse_and_bad_replies: 'fleet',
  fleet_sync_reset_or_local_probe_announces_nothing: 'fleet',
  fleet_sync_round_quorum_lease_and_close: 'fleet',
  options_fleet: 'fleet options',
  quota_sync_budget_rounds: 'fleet',
  quota_sync_rate_limit_rounds: 'fleet',
  ratelimit_fleet_shares: 'fleet',
};
export const LEFT_OUT = {
  full: IN_NO_BROWSER,
  lean: {
    ...IN_NO_BROWSER,
    budget_exhaust_and_refill_over_time: 'retry budget',
    budget_success_deposits_capped: 'retry budget',
    options_bulkhead_budget_timeout_policy_invalid: 'retry budget and policy options',
    options_rate_limit: 'rate limiter options',
    options_seed_examples_parse: 'rate limiter and policy options',
    presets_named_circuits_and_retry_policies: 'presets',
    presets_resilience_policies: 'presets',
    ratelimit_burst_then_spacing: 'rate limiter',
    ratelimit_seconds_and_aliases: 'rate limiter',
    ratelimit_wait_and_cancel: 'rate limiter',
    hedge_budget_limits_extra_load: 'hedging',
    hedge_budget_trickle_over_time: 'hedging',
    hedge_cancelled_attempts_count_neither_way: 'hedging',
    hedge_failure_starts_the_next_at_once: 'hedging',
    hedge_fallback_mode_only_after_failures: 'hedging',
    hedge_idempotent_methods_only: 'hedging',
    hedge_lazy_calls_handed_over_in_batches: 'hedging',
    hedge_lazy_fallback_needs_a_machine_only_on_failure: 'hedging',
    hedge_lazy_percentile_delay_holds_until_its_refresh: 'hedging',
    hedge_fatal_outcome_fails_the_call: 'hedging',
    hedge_parallel_when_delay_is_zero: 'hedging',
    hedge_percentile_delay_from_recent_primaries: 'hedging',
    hedge_primary_answers_before_the_delay: 'hedging',
    hedge_seconds_and_aliases: 'hedging',
    hedge_settle_misuse: 'hedging',
    hedge_slow_primary_hedges_every_delay: 'hedging',
    hedge_throttle_stops_an_outage_and_recovers: 'hedging',
    options_hedge: 'hedging options',
    adaptive_aimd_grows_and_backs_off: 'adaptive limit',
    shed_answer_retry_after_and_body: 'adaptive limit',
    adaptive_cancellation_is_ignored: 'adaptive limit',
    adaptive_drops_add_no_rtt: 'adaptive limit',
    adaptive_gradient2_no_creep_at_a_steady_gradient: 'adaptive limit',
    adaptive_gradient2_sheds_when_latency_rises: 'adaptive limit',
    adaptive_partitions_guaranteed_share: 'adaptive limit',
    adaptive_timeouts_never_climb: 'adaptive limit',
    adaptive_vegas_grows_without_queuing_and_backs_off: 'adaptive limit',
    options_adaptive: 'adaptive limit options',
    adaptive_http_statuses: 'adaptive limit',
    bulkhead_adaptive_limit_moves: 'adaptive bulkhead',
    registry_full_health_report: 'health',
    registry_get_or_create_and_health: 'health',
    registry_prometheus_text: 'Prometheus text',
    registry_reset_all_and_clear: 'health',
    retry_budget_exhausted: 'retry budget',
    retry_budget_refilled_by_successes: 'retry budget',
  },
};

export function makeRunner(b) {
  const PREAPPROVED = b.preapprovedPermit();
  const STATES = b.stateNames();
  const GIVE_UP = b.giveUpReasons();
  const GIVE_UP_CODES = b.giveUpCodes();

  /** A number as every runner writes it: non-finite as strings. */
  const n = (x) => (Number.isFinite(x) ? x : String(x));
  const optN = (x) => (Number.isNaN(x) ? null : n(x));
  const num = (s, key) => {
    const v = s[key];
    if (typeof v === 'number') return v;
    if (v === 'NaN') return Number.NaN;
    if (v === 'Infinity') return Number.POSITIVE_INFINITY;
    return 0;
  };

  function errorPayload(e) {
    const m = e instanceof Error ? e.message : String(e);
    if (!m.startsWith('SEAWALL:')) throw e;
    return JSON.parse(m.slice('SEAWALL:'.length));
  }
  const errorJson = (e) => {
    const p = errorPayload(e);
    return { error: { code: p.code, kind: p.kind, option: p.option, value: p.value } };
  };
  const errorCode = (e) => errorPayload(e).code;

  function drainEvents(h, out) {
    const events = JSON.parse(b.breakerEvents(h));
    if (events.length > 0) out.events = events.map((e) => ({ from: e.from, to: e.to, at: n(e.at), reason: e.reason }));
  }

  function runBreaker(v, steps) {
    const seconds = v.unit === 's';
    let h;
    try {
      h = b.breakerCreate(JSON.stringify(v.config ?? {}), seconds, null);
    } catch (e) {
      return steps.map(() => errorJson(e));
    }
    const permits = new Map();
    const acquire = (at, out) => {
      const code = b.breakerAcquire(h, at);
      if (code >= 0) {
        out.permit = true;
        out.probe = code > 0 && code !== PREAPPROVED;
        return code;
      }
      out.rejected = 'CIRCUIT_OPEN';
      out.retryAfterMs = optN(b.out[1]);
      return undefined;
    };
    const outputs = [];
    for (const s of steps) {
      const at = num(s, 'at');
      const out = {};
      const record = (permit, outcome, now, startedAt) => {
        if (b.breakerRecord(h, permit ?? -1, outcome, now, startedAt) < 0) out.error = 'INVALID_PERMIT';
      };
      switch (s.op) {
        case 'acquire': {
          const p = acquire(at, out);
          if (p !== undefined) permits.set(s.id, p);
          break;
        }
        case 'success':
        case 'failure':
        case 'release': {
          const p = permits.get(s.id);
          permits.delete(s.id);
          const d = num(s, 'duration');
          record(p, { success: 0, failure: 1, release: 2 }[s.op], at, at - d);
          break;
        }
        case 'call': {
          const p = acquire(at, out);
          if (p !== undefined) {
            const d = num(s, 'duration');
            b.breakerRecord(h, p, { success: 0, failure: 1 }[s.outcome] ?? 2, at + d, at);
          }
          break;
        }
        case 'state':
          b.breakerState(h, at);
          break;
        case 'stats':
          out.stats = JSON.parse(b.breakerStats(h, at));
          break;
        case 'open':
        case 'forceOpen':
        case 'isolate':
        case 'reset':
        case 'disable':
        case 'fleetOpened':
        case 'fleetClosed':
        case 'fleetLease':
        case 'fleetAlone':
        case 'fleetShared':
          b.breakerCommand(h, s.op, at);
          break;
        case 'fleetReport':
          out.report = JSON.parse(b.breakerFleetReport(h, at));
          break;
        case 'fleetSync':
          out.tally = JSON.parse(b.breakerFleetSync(h, JSON.stringify(s.reports), at));
          break;
        case 'probeLease':
          out.leaseMs = optN(b.breakerProbeLease(h, at));
          break;
        case 'nextTimeout':
          out.nextTimeout = optN(b.breakerNextTimeout(h));
          break;
        case 'remaining':
          out.remainingMs = optN(b.breakerRetryAfter(h, at));
          break;
        case 'snapshot':
          out.snapshot = JSON.parse(b.breakerSnapshot(h, at));
          break;
        case 'restore':
          try {
            b.breakerRestore(h, JSON.stringify(s.snapshot), at);
          } catch (e) {
            out.error = errorCode(e);
          }
          break;
        default:
          throw new Error(`unknown breaker op ${s.op}`);
      }
      out.state = STATES[b.breakerCurrentState(h)];
      drainEvents(h, out);
      outputs.push(out);
    }
    b.breakerDrop(h);
    return outputs;
  }

  function runBackoff(v, steps) {
    let h;
    try {
      h = b.backoffCreate(JSON.stringify(v.config ?? {}), v.unit === 's', v.seed ?? 0);
    } catch (e) {
      return steps.map(() => errorJson(e));
    }
    const out = steps.map((s) => {
      if (s.op === 'delays') return { delaysMs: s.retries.map((r) => n(b.backoffNext(h, r))) };
      if (s.op === 'restart') {
        b.backoffRestart(h);
        return {};
      }
      throw new Error(`unknown backoff op ${s.op}`);
    });
    b.backoffDrop(h);
    return out;
  }

  function runRetry(v, steps) {
    const seconds = v.unit === 's';
    let policy;
    try {
      policy = b.retryPolicyCreate(JSON.stringify(v.config ?? {}), seconds, v.seed ?? 0);
    } catch (e) {
      return steps.map(() => errorJson(e));
    }
    const budget = v.budget ? b.budgetCreate(JSON.stringify(v.budget), seconds, 0) : -1;
    let call = b.retryStart(policy, 0);
    let attempt = 1;
    const outputs = steps.map((s) => {
      const at = num(s, 'at');
      switch (s.op) {
        case 'start':
          b.retryEnd(call);
          call = b.retryStart(policy, at);
          attempt = 1;
          return { attempt };
        case 'failure': {
          const cls = { notRetryable: 1, rateLimited: 2 }[s.class] ?? 0;
          const retryAfter = typeof s.retryAfterMs === 'number' ? s.retryAfterMs : Number.NaN;
          const [value, next, fromServer] = b.retryOnFailure(call, at, cls, retryAfter, budget);
          if (value >= 0) {
            attempt = next;
            return { retry: { attempt: next, delayMs: n(value), fromServer: fromServer === 1 } };
          }
          const i = -value - 1;
          return { giveUp: GIVE_UP[i], attempts: next, code: GIVE_UP_CODES[i] };
        }
        case 'success':
          if (budget >= 0) b.budgetRecordSuccess(budget, at);
          return { attempts: attempt };
        case 'tokens':
          return { tokens: n(budget >= 0 ? b.budgetTokens(budget, at) : 0) };
        case 'isRetryable':
          return { retryable: b.retryIsRetryable(policy, s.ids) };
        default:
          throw new Error(`unknown retry op ${s.op}`);
      }
    });
    b.retryEnd(call);
    b.retryPolicyDrop(policy);
    if (budget >= 0) b.budgetDrop(budget);
    return outputs;
  }

  function runBudget(v, steps) {
    let h;
    try {
      h = b.budgetCreate(JSON.stringify(v.config ?? {}), v.unit === 's', num(v, 'start'));
    } catch (e) {
      return steps.map(() => errorJson(e));
    }
    const outputs = steps.map((s) => {
      const at = num(s, 'at');
      if (s.op === 'withdraw') {
        const granted = b.budgetTryWithdraw(h, at);
        return { granted, tokens: n(b.budgetTokens(h, at)) };
      }
      switch (s.op) {
        case 'success':
          b.budgetRecordSuccess(h, at);
          return { tokens: n(b.budgetTokens(h, at)) };
        case 'tokens':
          return { tokens: n(b.budgetTokens(h, at)) };
        case 'stats':
          return { stats: JSON.parse(b.budgetStats(h, at)) };
        case 'fleetReport':
          return { report: JSON.parse(b.budgetFleetReport(h, at)) };
        case 'fleetSync':
        case 'fleetAlone': {
          if (s.op === 'fleetSync') b.budgetFleetSync(h, s.granted, JSON.stringify(s.reports), at);
          else b.budgetFleetAlone(h, at);
          const stats = JSON.parse(b.budgetStats(h, at));
          return { share: n(stats.fleet.share), cap: n(stats.fleet.cap), tokens: n(stats.tokens) };
        }
        default:
          throw new Error(`unknown budget op ${s.op}`);
      }
    });
    b.budgetDrop(h);
    return outputs;
  }

  /** A hedged call's next step (the engine's encoding) as every runner writes it. */
  function hedgeStep(x) {
    if (x >= 0) return { wait: Number.isFinite(x) ? n(x) : null };
    if (x >= -10) return { launch: -1 - x };
    if (x >= -20) return { won: -11 - x };
    return { failed: -21 - x };
  }
  const HEDGE_OUTCOMES = ['success', 'failure', 'fatal', 'cancelled'];

  function runHedge(v, steps) {
    let h;
    try {
      h = b.hedgePolicyCreate(JSON.stringify(v.config ?? {}), v.unit === 's', 0);
    } catch (e) {
      return steps.map(() => errorJson(e));
    }
    const calls = new Map();
    const outputs = steps.map((s) => {
      const at = num(s, 'at');
      const call = calls.get(s.call) ?? 2 ** 32 - 1;
      try {
        switch (s.op) {
          case 'start': {
            const c = b.hedgeStart(h, at);
            calls.set(s.call, c);
            return hedgeStep(b.hedgeStep(c, at));
          }
          case 'step':
            return hedgeStep(b.hedgeStep(call, at));
          case 'sync':
            b.hedgeSync(h, s.begun, s.inTime ?? 0, s.delay, Float64Array.from(s.answered ?? []), at);
            return { synced: true };
          case 'delay': {
            const [delay, until, wake, timed] = b.hedgeDelay(h, at);
            const t = (x) => (Number.isFinite(x) ? n(x) : null);
            return { delay: { delay: t(delay), until: t(until), wake: t(wake), timed: timed === 1 } };
          }
          case 'start_begun': {
            const c = b.hedgeStartBegun(h, s.started, s.delay);
            calls.set(s.call, c);
            return hedgeStep(b.hedgeStep(c, at));
          }
          case 'settle':
            return hedgeStep(b.hedgeSettle(call, s.attempt, typeof s.outcome === 'string' ? HEDGE_OUTCOMES.indexOf(s.outcome) : s.outcome, at));
          case 'end':
            return { ended: b.hedgeEnd(call) };
          case 'hedgeable':
            return { hedgeable: b.hedgeable(s.method, s.forced === true) };
          case 'stats':
            return { stats: JSON.parse(b.hedgeStats(h, at)) };
          default:
            throw new Error(`unknown hedge op ${s.op}`);
        }
      } catch (e) {
        return errorJson(e);
      }
    });
    b.hedgePolicyDrop(h);
    return outputs;
  }

  const LIMIT_OUTCOMES = ['success', 'dropped', 'ignored'];

  function runAdaptive(v, steps) {
    let h;
    try {
      h = b.adaptiveCreate(JSON.stringify(v.config ?? {}), v.unit === 's', v.seed ?? 0);
    } catch (e) {
      return steps.map(() => errorJson(e));
    }
    const permits = new Map();
    const outcome = (s) => (typeof s.outcome === 'string' ? LIMIT_OUTCOMES.indexOf(s.outcome) : s.outcome);
    const outputs = steps.map((s) => {
      const at = num(s, 'at');
      const partition = typeof s.partition === 'string' ? b.adaptivePartition(h, s.partition) : -1;
      switch (s.op) {
        case 'acquire': {
          const p = b.adaptiveAcquire(h, partition, at);
          if (p < 0) return { rejected: true };
          permits.set(s.id, p);
          return { permit: true };
        }
        case 'release':
          try {
            b.adaptiveRelease(h, permits.get(s.id) ?? -1, outcome(s), at);
            return {};
          } catch (e) {
            return errorJson(e);
          }
        case 'round': {
          const admitted = [];
          for (let i = 0; i < (s.concurrency ?? 1); i++) {
            const p = b.adaptiveAcquire(h, partition, at);
            if (p >= 0) admitted.push(p);
          }
          for (const p of admitted) b.adaptiveRelease(h, p, outcome(s), at + num(s, 'rtt'));
          return { admitted: admitted.length, limit: JSON.parse(b.adaptiveStats(h)).limit };
        }
        case 'stats':
          return { stats: JSON.parse(b.adaptiveStats(h)) };
        case 'status':
          return { outcome: LIMIT_OUTCOMES[b.limitOutcome(s.status)] };
        default:
          throw new Error(`unknown adaptive op ${s.op}`);
      }
    });
    b.adaptiveDrop(h);
    return outputs;
  }

  function runRateLimit(v, steps) {
    let h;
    try {
      h = b.rateLimitCreate(JSON.stringify(v.config ?? {}), v.unit === 's');
    } catch (e) {
      return steps.map(() => errorJson(e));
    }
    const tickets = new Map();
    const outputs = steps.map((s) => {
      const at = num(s, 'at');
      switch (s.op) {
        case 'acquire': {
          const [wait, ticket] = b.rateLimitAcquire(h, at);
          if (wait === 0) return { start: true };
          if (wait > 0) {
            tickets.set(s.id, ticket);
            return { waitMs: n(wait) };
          }
          return { rejected: 'RATE_LIMITED', retryAfterMs: n(-wait) };
        }
        case 'cancel':
          return { refunded: b.rateLimitCancel(h, tickets.get(s.id) ?? Number.NaN) };
        case 'stats':
          return { stats: JSON.parse(b.rateLimitStats(h, at)) };
        case 'fleetReport':
          return { report: JSON.parse(b.rateLimitFleetReport(h, at)) };
        case 'fleetSync':
          b.rateLimitFleetSync(h, s.granted, JSON.stringify(s.reports), at);
          return { share: n(JSON.parse(b.rateLimitStats(h, at)).fleet.share) };
        case 'fleetAlone':
          b.rateLimitFleetAlone(h);
          return { share: n(JSON.parse(b.rateLimitStats(h, at)).fleet.share) };
        default:
          throw new Error(`unknown ratelimit op ${s.op}`);
      }
    });
    b.rateLimitDrop(h);
    return outputs;
  }

  function runBulkhead(v, steps) {
    let h;
    try {
      h = b.bulkheadCreate(JSON.stringify(v.config ?? {}), v.unit === 's', null);
    } catch (e) {
      return steps.map(() => errorJson(e));
    }
    const permits = new Map();
    const tickets = new Map();
    const outputs = [];
    for (const s of steps) {
      const at = num(s, 'at');
      const out = {};
      switch (s.op) {
        case 'acquire': {
          const kind = b.bulkheadAcquire(h, at);
          const value = b.out[1];
          if (kind === 0) {
            permits.set(s.id, value);
            out.run = true;
          } else if (kind === 1) {
            tickets.set(value, s.id);
            out.queued = JSON.parse(b.bulkheadMetrics(h)).queued;
          } else {
            out.rejected = 'BULKHEAD_QUEUE_FULL';
          }
          break;
        }
        case 'release': {
          const p = permits.has(s.id) ? permits.get(s.id) : -1;
          permits.delete(s.id);
          const ticket = b.bulkheadRelease(h, p, at);
          if (ticket < 0) out.error = 'INVALID_PERMIT';
          else if (ticket === 0) out.started = null;
          else {
            const label = tickets.get(ticket);
            tickets.delete(ticket);
            permits.set(label, b.out[1]);
            out.started = label;
          }
          break;
        }
        case 'cancel': {
          const entry = [...tickets].find(([, label]) => label === s.id);
          const cancelled = entry !== undefined && b.bulkheadCancel(h, entry[0]);
          if (cancelled) tickets.delete(entry[0]);
          out.cancelled = cancelled;
          break;
        }
        case 'tick':
          break;
        case 'nextTimeout':
          out.nextTimeout = optN(b.bulkheadNextTimeout(h));
          break;
        case 'metrics':
          out.metrics = JSON.parse(b.bulkheadMetrics(h));
          break;
        default:
          throw new Error(`unknown bulkhead op ${s.op}`);
      }
      // Expiry runs inside every timed input; `tick` is the timer itself.
      const expired = b.bulkheadExpire(h, s.op === 'tick' ? at : Number.NEGATIVE_INFINITY);
      if (expired.length > 0) {
        out.expired = expired.map((t) => {
          const label = tickets.get(t);
          tickets.delete(t);
          return label;
        });
      }
      const m = JSON.parse(b.bulkheadMetrics(h));
      out.active = m.active;
      out.queued = m.queued;
      outputs.push(out);
    }
    b.bulkheadDrop(h);
    return outputs;
  }

  function runOptions(steps) {
    return steps.map((s) => {
      try {
        b.validate(s.kind, JSON.stringify(s.config ?? {}), s.unit === 's');
        return { ok: true };
      } catch (e) {
        return errorJson(e);
      }
    });
  }

  function runRegistry(steps) {
    b.clearRegistry();
    return steps.map((s) => {
      const at = num(s, 'at');
      const name = s.name ?? '';
      switch (s.op) {
        case 'breaker':
        case 'bulkhead':
          try {
            const create = s.op === 'breaker' ? b.breakerGetOrCreate : b.bulkheadGetOrCreate;
            const [, created] = create.call(b, name, JSON.stringify(s.config ?? {}), s.unit === 's');
            return { created: created === 1 };
          } catch (e) {
            return errorJson(e);
          }
        case 'call': {
          const h = b.breakerLookup(name);
          const code = b.breakerAcquire(h, at);
          if (code < 0) return { rejected: 'CIRCUIT_OPEN', state: STATES[-code - 1] };
          const d = num(s, 'duration');
          const r = b.breakerRecord(h, code, s.outcome === 'failure' ? 1 : 0, at + d, at);
          b.breakerEvents(h);
          return { state: STATES[r & 7] };
        }
        case 'occupy':
          return { admitted: b.bulkheadAcquire(b.bulkheadLookup(name), at) !== 2 };
        case 'forceOpen':
        case 'open':
          b.breakerCommand(b.breakerLookup(name), s.op, at);
          return {};
        case 'retryAttempt':
          b.recordRetryAttempt(name);
          return {};
        case 'timeout':
          b.recordTimeout(name);
          return {};
        case 'health':
          return { health: JSON.parse(b.health(at)) };
        case 'breakerHealth':
          return { health: JSON.parse(b.breakerHealth(at)) };
        case 'names':
          return { names: b.breakerNames() };
        case 'resetAll':
          b.resetAll(at);
          return {};
        case 'clear':
          b.clearRegistry();
          return {};
        case 'prometheus':
          return { prometheus: b.prometheus() };
        default:
          throw new Error(`unknown registry op ${s.op}`);
      }
    });
  }

  function runPresets(steps) {
    return steps.map((s) => {
      const python = s.style === 'python';
      const arg = (k) => (typeof s[k] === 'number' ? s[k] : Number.NaN);
      const text = {
        policy: () => b.presetPolicy(s.name, python),
        circuit: () => b.presetCircuit(s.name, python),
        retryFixed: () => b.presetRetry('fixed', Number.isNaN(arg('attempts')) ? 3 : arg('attempts'), Number.isNaN(arg('delay')) ? 1000 : arg('delay'), Number.NaN, python),
        retryExponential: () => b.presetRetry('exponential', arg('attempts'), arg('initial'), arg('max'), python),
        retryApiRateLimit: () => b.presetRetry('apiRateLimit', Number.NaN, Number.NaN, Number.NaN, python),
        retryNetwork: () => b.presetRetry('network', Number.NaN, Number.NaN, Number.NaN, python),
      }[s.op]();
      return { options: text === null || text === undefined ? null : JSON.parse(text) };
    });
  }

  function runVector(v) {
    const steps = v.steps ?? [];
    switch (v.machine) {
      case 'breaker':
        return runBreaker(v, steps);
      case 'backoff':
        return runBackoff(v, steps);
      case 'retry':
        return runRetry(v, steps);
      case 'budget':
        return runBudget(v, steps);
      case 'ratelimit':
        return runRateLimit(v, steps);
      case 'hedge':
        return runHedge(v, steps);
      case 'adaptive':
        return runAdaptive(v, steps);
      case 'bulkhead':
        return runBulkhead(v, steps);
      case 'options':
        return runOptions(steps);
      case 'registry':
        return runRegistry(steps);
      case 'presets':
        return runPresets(steps);
      case 'rng': {
        // One generator for the whole vector: draw everything, then hand out in order.
        const all = b.rngFloats(v.seed ?? 0, steps.reduce((k, s) => k + (s.count ?? 1), 0));
        let i = 0;
        return steps.map((s) => ({ floats: all.slice(i, (i += s.count ?? 1)).map(n) }));
      }
      case 'deadline':
        return steps.map((s) => {
          const outer = typeof s.outer === 'number' ? s.outer : Number.NaN;
          const at = b.deadline(num(s, 'at'), num(s, 'timeout'), outer);
          const check = num(s, 'check');
          return { deadline: n(at), remainingMs: n(Math.max(0, at - check)), expired: check >= at };
        });
      case 'retryAfter':
        return steps.map((s) => {
          const ms = b.retryAfter(s.value, num(s, 'now'));
          return { retryAfterMs: Number.isNaN(ms) ? null : n(ms) };
        });
      case 'headerMs':
        return steps.map((s) => {
          const ms = b.headerMs(s.value);
          return { ms: Number.isNaN(ms) ? null : n(ms) };
        });
      case 'shedAnswer':
        return steps.map((s) => {
          const [retryAfter, body] = b.shedAnswer(s.name, num(s, 'retryAfterMs'));
          return { retryAfter, body: JSON.parse(body) };
        });
      case 'fleetSync': {
        const h = b.breakerCreate(JSON.stringify(v.config), false, v.breakerName);
        b.breakerSyncJoin(h, v.prefix, v.replica);
        const state = () => ({ state: STATES[b.breakerCurrentState(h)] });
        return steps.map((s) => {
          const at = s.at ?? 0;
          try {
            switch (s.op) {
              case 'next': {
                const c = b.breakerSyncNext(h, at);
                return { command: c === '' ? null : JSON.parse(c) };
              }
              case 'reply':
                b.breakerSyncReply(h, JSON.stringify(s.reply), at);
                return state();
              case 'failed':
                b.breakerSyncFailed(h, at);
                return state();
              case 'status':
                return { status: JSON.parse(b.breakerSyncStatus(h)) };
              case 'wanted':
                return { wanted: b.breakerSyncWanted(h) };
              case 'command':
                b.breakerCommand(h, s.command, at);
                return state();
              case 'call': {
                const permit = b.breakerAcquire(h, at);
                if (permit >= 0) b.breakerRecord(h, permit, s.outcome === 'success' ? 0 : 1, at, at);
                return { admitted: permit >= 0, ...state() };
              }
              default:
                throw new Error(`unknown fleetSync op ${s.op}`);
            }
          } catch (e) {
            return errorJson(e);
          }
        });
      }
      case 'quotaSync': {
        const kind = v.kind;
        const h = kind === 'budget' ? b.budgetCreate(JSON.stringify(v.config), false, 0) : b.rateLimitCreate(JSON.stringify(v.config), false);
        b.quotaSyncJoin(kind, h, JSON.stringify({ prefix: v.prefix, name: v.policyName, replica: v.replica }));
        return steps.map((s) => {
          const at = s.at ?? 0;
          try {
            switch (s.op) {
              case 'next': {
                const c = b.quotaSyncNext(kind, h, at);
                return { command: c === '' ? null : JSON.parse(c) };
              }
              case 'reply':
                b.quotaSyncReply(kind, h, JSON.stringify(s.reply), at);
                return {};
              case 'failed':
                b.quotaSyncFailed(kind, h, at);
                return {};
              case 'status':
                return { status: JSON.parse(b.quotaSyncStatus(kind, h)) };
              case 'leave':
                b.quotaSyncLeave(kind, h, at);
                return {};
              case 'stats':
                return { stats: JSON.parse(kind === 'budget' ? b.budgetStats(h, at) : b.rateLimitStats(h, at)).fleet };
              default:
                throw new Error(`unknown quotaSync op ${s.op}`);
            }
          } catch (e) {
            return errorJson(e);
          }
        });
      }
      case 'outcome':
        return steps.map((s) => {
          if (s.op === 'count') return { count: b.countStatus(num(s, 'status')) };
          const outcome = typeof s.outcome === 'string' ? s.outcome : JSON.stringify(s.outcome);
          try {
            return { verdict: JSON.parse(b.classifyOutcome(outcome, num(s, 'now'))) };
          } catch (e) {
            return errorJson(e);
          }
        });
      default:
        throw new Error(`unknown machine ${v.machine}`);
    }
  }

  return { runVector };
}

/** Numbers as every runner writes them, object keys sorted. */
export function canonical(v) {
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical(v[k]);
    return out;
  }
  return v;
}

/** The canonical trace: one line per step. */
export function traceOf(outputs) {
  return outputs.map((o) => JSON.stringify(canonical(o))).join('\n') + '\n';
}
