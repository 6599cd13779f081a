/**
 * The policy simulator (`seawall-sim`'s engine) from JavaScript: what a retry/breaker/budget/
 * bulkhead policy does to a struggling backend, on a virtual clock, deterministically. The
 * scenario format is the CLI's (`examples/scenario.json`); the core reads and runs it.
 */
import { backend } from './backend.js';
import { native } from './errors.js';

/** A scenario file's contents (times in ms). Policy objects take the libraries' own options. */
export interface SimulationScenario {
  seed?: number;
  clients?: number;
  requestsPerClient?: number;
  requestIntervalMs?: number;
  stagger?: boolean;
  bucketMs?: number;
  backend: {
    latencyMs?: number;
    latencyJitterMs?: number;
    errorRate?: number;
    outages?: Array<[number, number] | { from: number; to: number }>;
    faults?: Array<{ from: number; to: number; errorRate?: number; extraLatencyMs?: number }>;
    capacity?: number;
  };
  policies: Record<string, {
    layers?: number;
    retry?: Record<string, unknown>;
    circuitBreaker?: Record<string, unknown>;
    bulkhead?: Record<string, unknown>;
    budget?: Record<string, unknown>;
    timeout?: number;
  }>;
}

export interface SimulationSummary {
  requests: number;
  backendCalls: number;
  /** Backend calls per client request. */
  amplification: number;
  succeeded: number;
  successRate: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
  peakBackendCalls: number;
  peakBackendRetries: number;
  breakerRejections: number;
  bulkheadRejections: number;
  budgetRefusals: number;
  /** From the end of the last fault to the first interval with ≥ 90% success; null if never. */
  recoveryMs: number | null;
  endedAtMs: number;
}

export interface SimulationInterval {
  startMs: number;
  offered: number;
  backendCalls: number;
  backendRetries: number;
  succeeded: number;
  failed: number;
  breakerRejections: number;
  bulkheadRejections: number;
  budgetRefusals: number;
  breakerOpenMs: number;
  breakerHalfOpenMs: number;
  p50LatencyMs: number;
  p99LatencyMs: number;
}

export interface SimulationResult {
  policies: Array<{ name: string; summary: SimulationSummary; series: SimulationInterval[] }>;
}

/** Runs every policy of `scenario` (an object, or the JSON text of a scenario file). Bad fields
 * throw a `TypeError`/`RangeError` naming them. */
export function simulate(scenario: SimulationScenario | string): SimulationResult {
  const b = backend();
  if (b.simulate === undefined) {
    throw new Error('simulate: the simulator is not part of the wasm build (browsers, and Node where no native addon loads: it would add ~16 KB to every page); run it with the native addon, in Python, or with seawall-sim');
  }
  const text = typeof scenario === 'string' ? scenario : JSON.stringify(scenario);
  return JSON.parse(native(() => b.simulate!(text))) as SimulationResult;
}
