/** The named circuits of seeds 000/001: openai (3 failures, 60 s), stripe (3, 30 s), dataService (5, 15 s). */
import { backend } from './backend.js';
import { CircuitBreaker, type CircuitBreakerOptions } from './breaker.js';

function circuit(name: string): CircuitBreaker {
  const options = JSON.parse(backend().presetCircuit(name, false) ?? '{}') as CircuitBreakerOptions;
  return new CircuitBreaker(name, options);
}

export const openaiCircuit = circuit('openai');
export const stripeCircuit = circuit('stripe');
export const dataServiceCircuit = circuit('dataService');
