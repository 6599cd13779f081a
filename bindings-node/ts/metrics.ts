/** Prometheus text (exposition format 0.0.4) of every registered breaker and bulkhead, with
 * retry and timeout counters, under the metric names dashboards already use. */
import { backend } from './backend.js';
import { flushAllBreakers } from './breaker.js';

export function prometheusMetrics(): string {
  flushAllBreakers();
  return backend().prometheus();
}

/** The core's defaults (canonical names, ms): defined once in Rust, read here. */
export function defaults(): Record<string, number> {
  return JSON.parse(backend().defaultsJson()) as Record<string, number>;
}
