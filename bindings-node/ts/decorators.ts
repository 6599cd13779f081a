/**
 * Method decorators that work both as TypeScript's legacy `experimentalDecorators`
 * (target, key, descriptor) and as standard decorators (method, context).
 */
import { withCircuitBreaker, type CircuitBreakerOptions } from './breaker.js';
import { resilienceManager, type ResiliencePolicy } from './manager.js';
import { RetryPolicy, withBackoff, type RetryOptions } from './retry.js';
import { argumentError, checkOptionsArg } from './options.js';
import { timeoutOptions, withTimeout } from './timeout.js';

type AnyMethod = (this: unknown, ...args: unknown[]) => unknown;
type Wrap = (original: AnyMethod, self: unknown, args: unknown[]) => Promise<unknown>;

/** A decorator usable in either mode. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type MethodDecorator = (target: any, context: any, descriptor?: any) => any;

function methodDecorator(wrap: Wrap): MethodDecorator {
  return (target: unknown, context: unknown, descriptor?: PropertyDescriptor) => {
    if (descriptor !== undefined && typeof descriptor.value === 'function') {
      const original = descriptor.value as AnyMethod;
      descriptor.value = function (this: unknown, ...args: unknown[]) {
        return wrap(original, this, args);
      };
      return descriptor;
    }
    if (typeof target === 'function' && context !== null && typeof context === 'object' && (context as { kind?: string }).kind === 'method') {
      const original = target as AnyMethod;
      return function (this: unknown, ...args: unknown[]) {
        return wrap(original, this, args);
      };
    }
    throw new TypeError('Seawall decorators apply to methods');
  };
}

// Each decorator checks its arguments when applied, so a wrong one fails as the class is
// defined rather than on every call of the method.

export function WithResilience<F = unknown>(name: string, policy: ResiliencePolicy<F> = {}): MethodDecorator {
  if (typeof name !== 'string') throw argumentError({ name });
  checkOptionsArg(policy);
  return methodDecorator((original, self, args) => resilienceManager.execute(name, () => original.apply(self, args), policy));
}

export function WithCircuitBreaker(name: string, options?: CircuitBreakerOptions): MethodDecorator {
  if (typeof name !== 'string') throw argumentError({ name });
  checkOptionsArg(options);
  return methodDecorator((original, self, args) => withCircuitBreaker(name, () => original.apply(self, args), options));
}

export function WithRetry(options: RetryOptions | RetryPolicy = {}): MethodDecorator {
  const policy = options instanceof RetryPolicy ? options : new RetryPolicy(options);
  return methodDecorator((original, self, args) => withBackoff(() => original.apply(self, args), policy));
}

export function WithTimeout(ms: number): MethodDecorator {
  timeoutOptions(ms);
  return methodDecorator((original, self, args) => withTimeout(() => original.apply(self, args), ms));
}
