/** The ready-made named circuits: openai (3 failures, 60 s), stripe (3, 30 s), dataService (5, 15 s). */
import { backend } from './backend.js';
import { CircuitBreaker, type CircuitBreakerOptions, DEFERRED } from './breaker.js';

/** A preset breaker whose options come from the core when it is first used (a wasm backend is
 * installed asynchronously, after the modules that import the shell have run). */
function circuit(name: string): CircuitBreaker {
  return new CircuitBreaker(name, () => JSON.parse(backend().presetCircuit(name, false) ?? '{}') as CircuitBreakerOptions, DEFERRED);
}

export const openaiCircuit = circuit('openai');
export const stripeCircuit = circuit('stripe');
export const dataServiceCircuit = circuit('dataService');
