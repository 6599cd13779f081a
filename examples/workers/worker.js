// A Cloudflare Worker that guards its upstream with Seawall: a breaker shared by the isolate's
// requests, three attempts with backoff (honouring Retry-After) and 2 s per attempt. Bundled by
// wrangler (or any bundler that keeps `.wasm` imports as modules), `seawall` is its Workers build.
// `UPSTREAM` is a variable of the Worker (wrangler.toml `[vars]`).
import { CircuitBreaker, CircuitBreakerError, resilientFetch } from 'seawall';

const breaker = new CircuitBreaker('upstream', { failureThreshold: 5, resetTimeout: 30_000 });

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const upstream = new URL(url.pathname + url.search, env.UPSTREAM);
    try {
      return await resilientFetch(upstream, { method: request.method, headers: request.headers }, breaker, { maxAttempts: 3, timeout: 2_000 });
    } catch (e) {
      // Open breaker: answer at once instead of waiting on an upstream that is down.
      const status = e instanceof CircuitBreakerError ? 503 : 502;
      return new Response(`upstream unavailable: ${e.message}`, { status, headers: { 'retry-after': '30' } });
    }
  },
};
