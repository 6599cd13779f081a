// The example page: the package's browser entry (wasm backend), nothing else.
import { CircuitBreaker, CircuitBreakerError, resilientFetch } from '/dist/esm/entry.browser.js';

const $ = (id) => document.getElementById(id);
const t0 = performance.now();
const stamp = () => `${((performance.now() - t0) / 1000).toFixed(2).padStart(6)}s`;
const log = (cls, text) => {
  const li = document.createElement('li');
  li.className = cls;
  li.textContent = `${stamp()}  ${text}`;
  $('timeline').prepend(li);
};
const counts = { calls: 0, ok: 0, failed: 0, rejected: 0 };
const show = () => {
  $('calls').textContent = `calls ${counts.calls}`;
  $('ok').textContent = `succeeded ${counts.ok}`;
  $('failed').textContent = `failed ${counts.failed}`;
  $('rejected').textContent = `rejected by the breaker ${counts.rejected}`;
};

const breaker = new CircuitBreaker('quote-api', { failureThreshold: 3, resetTimeout: 10_000, halfOpenMaxCalls: 1 });
const paint = (state) => {
  $('state').textContent = state;
  $('state').className = `badge ${state}`;
};
breaker.on('stateChange', ({ previousState, currentState, reason }) => {
  paint(currentState);
  log('state', `breaker ${previousState} → ${currentState} (${reason.toLowerCase().replaceAll('_', ' ')})`);
});
breaker.on('call', ({ success, duration }) => log(success ? 'ok' : 'fail', `  attempt ${success ? 'succeeded' : 'failed'} in ${Math.round(duration)} ms`));
breaker.on('reject', ({ retryAfter }) => log('reject', `  refused: breaker open${retryAfter ? `, retry in ${Math.ceil(retryAfter / 1000)} s` : ''}`));

$('call').addEventListener('click', async () => {
  counts.calls++;
  show();
  log('', `call #${counts.calls}`);
  try {
    const res = await resilientFetch('/api/quote', {}, breaker, {
      maxAttempts: 3, baseDelay: 400, maxDelay: 3000, timeout: 1500,
      onRetry: (attempt, error, delay) => log('wait', `  retry ${attempt} after ${Math.round(delay)} ms (${error.status ? `HTTP ${error.status}` : error.name})`),
    });
    if (res.ok) {
      counts.ok++;
      log('ok', `→ ${(await res.json()).quote}`);
    } else {
      counts.failed++;
      log('fail', `→ gave up: HTTP ${res.status}`);
    }
  } catch (e) {
    if (e instanceof CircuitBreakerError) {
      counts.rejected++;
      log('reject', `→ fallback: ${e.message}`);
    } else {
      counts.failed++;
      log('fail', `→ gave up: ${e.name}: ${e.message}`);
    }
  }
  show();
  const left = breaker.getRemainingTimeout();
  $('retry').textContent = breaker.getState() === 'OPEN' ? `probes again in ${Math.ceil(left / 1000)} s` : '';
});

for (const b of document.querySelectorAll('[data-mode]')) {
  b.addEventListener('click', async () => {
    await fetch(`/api/mode/${b.dataset.mode}`, { method: 'POST' });
    log('', `backend is now ${b.dataset.mode}`);
  });
}
show();
window.__ready = true;
