// Every usage example of seeds 000, 002, 003 and 004 (shared/seeds/), unchanged but for the
// import line, as executable tests. Compiled with `tsc --strict` twice (legacy
// experimentalDecorators and standard decorators) and run with node --test. The seeds' own
// catch clauses read `error.message` / `error.code`, so `useUnknownInCatchVariables` is off;
// everything else is strict.
//
// The examples call hosts such as api.example.com and api.openai.com: a fetch stub sends every
// request to a local HTTP server (127.0.0.1) instead, so the examples' code stays as written.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, beforeEach, test } from 'node:test';

import {
  Bulkhead,
  CircuitBreaker,
  CircuitBreakerError,
  CircuitState,
  circuitBreakerRegistry,
  createBulkhead,
  createCircuitBreaker,
  executeWithRetry,
  openaiCircuit,
  dataServiceCircuit,
  resilienceManager,
  ResiliencePolicies,
  resilientFetch,
  RetryPolicies,
  TimeoutError,
  timeoutManager,
  useRealClock,
  useVirtualClock,
  withBackoff,
  withCircuitBreaker,
  WithCircuitBreaker,
  WithResilience,
  WithRetry,
  WithTimeout,
  withTimeout,
  type CircuitBreakerMetrics,
} from 'seawall';

// ---- the world the examples assume ---------------------------------------------------------

let server: Server;
let base = '';
const hits: string[] = [];
let failNext = 0;
const realFetch = globalThis.fetch;

before(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (failNext > 0) {
      failNext--;
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":"unavailable"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, path: req.url, choices: [{ text: 'hello' }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}`;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, 'http://localhost');
    return realFetch(`${base}${url.pathname}${url.search}`, init);
  }) as typeof fetch;
});

after(async () => {
  globalThis.fetch = realFetch;
  await new Promise<void>((r) => server.close(() => r()));
});

beforeEach(() => {
  hits.length = 0;
  failNext = 0;
  useRealClock();
  circuitBreakerRegistry.resetAll();
  openaiCircuit.reset();
  dataServiceCircuit.reset();
});

const API_KEY = 'test-key';
const ORCHESTRATOR_URL = 'http://orchestrator.internal';
function fallbackResponse() {
  return { fallback: true };
}
async function riskyOperation() {
  return 'risky-ok';
}
const database = { query: async (sql: string, params: unknown[]) => ({ sql, params, rows: [1] }) };
const externalApi = { call: async () => 'external-ok', getData: async (id: string) => ({ id }) };
let apiCalls = 0;
async function apiCall() {
  apiCalls++;
  if (apiCalls % 2 === 1) throw Object.assign(new Error('temporarily unavailable'), { code: 'NETWORK_ERROR' });
  return 'api-ok';
}
async function networkCall() {
  return 'network-ok';
}
async function operation() {
  return 'operation-ok';
}
function slowOperation() {
  // Never settles (and holds no timer): only a timeout ends it.
  return new Promise<string>(() => {});
}
async function fetchWeatherData() {
  return { temp: 21 };
}
async function fetchExternalData(id: string) {
  return { id };
}
async function processWithAI(data: unknown) {
  return { analysis: data };
}
async function storeInDatabase(data: unknown) {
  return { stored: data };
}
const alerts: unknown[] = [];
const alertingService = { send: (a: unknown) => alerts.push(a) };
// Next.js stand-ins for seed 003's route handlers.
class NextRequest {
  constructor(private body: unknown) {}
  async json() {
    return this.body;
  }
}
const NextResponse = {
  json: (body: unknown, init?: { status?: number }) => ({ body, status: init?.status ?? 200 }),
};
// OpenAI stand-in for seed 002.
// eslint-disable-next-line @typescript-eslint/no-namespace
declare namespace OpenAI {
  interface ChatCompletionCreateParams {
    model: string;
    messages: Array<{ role: string; content: string }>;
  }
}

// ---- seed 000: backoff, circuit breaker, resilient fetch -----------------------------------

test('seed 000: basic backoff', async () => {
  useVirtualClock();
  failNext = 2;
  const result = await withBackoff(async () => {
    const response = await fetch('https://api.example.com/data');
    if (!response.ok) throw new Error('Failed');
    return response.json();
  }, {
    maxRetries: 3,
    baseDelay: 1000,
    maxDelay: 4000,
    jitter: true
  });
  assert.equal((result as { ok: boolean }).ok, true);
  assert.equal(hits.length, 3);
});

test('seed 000: circuit breaker with fallback', async () => {
  async function example() {
    const apiCircuit = new CircuitBreaker('external-api', {
      failureThreshold: 5,  // Open after 5 failures
      resetTimeout: 30000,  // Try again after 30s
      halfOpenRequests: 1   // Allow 1 test request
    });

    try {
      const result = await apiCircuit.execute(async () => {
        return fetch('https://api.example.com/data');
      });
      return result;
    } catch (error) {
      if (error.message.includes('Circuit breaker')) {
        // Service is temporarily unavailable
        return fallbackResponse();
      }
      throw error;
    }
  }
  const r = await example();
  assert.ok(r instanceof Response);
  const forced = circuitBreakerRegistry.get('external-api');
  forced?.forceOpen();
  assert.deepEqual(await example2(), { fallback: true });
  async function example2() {
    try {
      return await forced!.execute(async () => fetch('https://api.example.com/data'));
    } catch (error) {
      if (error.message.includes('Circuit breaker')) return fallbackResponse();
      throw error;
    }
  }
});

test('seed 000: resilientFetch with openaiCircuit', async () => {
  const response = await resilientFetch(
    'https://api.openai.com/v1/completions',
    {
      method: 'POST',
      headers: {
        'Authorization': `Bearer ${API_KEY}`,
        'Content-Type': 'application/json'
      },
      body: JSON.stringify({ prompt: 'Hello' })
    },
    openaiCircuit,  // Use OpenAI circuit breaker
    { maxRetries: 3, baseDelay: 2000 }
  );
  assert.equal(response.status, 200);
  assert.deepEqual(hits, ['POST /v1/completions']);
});

test('seed 000: DataService -> Orchestrator', async () => {
  async function notifyOrchestrator(event: any) {
    return resilientFetch(
      `${ORCHESTRATOR_URL}/events/document_uploaded`,
      {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-API-Key': API_KEY
        },
        body: JSON.stringify(event)
      },
      dataServiceCircuit,
      { maxRetries: 3, baseDelay: 1000, maxDelay: 4000 }
    );
  }
  const r = await notifyOrchestrator({ id: 1 });
  assert.equal(r.status, 200);
});

test('seed 000: Orchestrator -> OpenAI with fallback', async () => {
  async function analyzeWithAI(text: string) {
    try {
      const response = await resilientFetch(
        'https://api.openai.com/v1/completions',
        { /* options */ },
        openaiCircuit
      );
      return response.json();
    } catch (error) {
      // Fallback to stub analysis if OpenAI is down
      console.log('[fallback] Using stub analysis');
      return { analysis: 'pending', source: 'stub' };
    }
  }
  assert.equal(((await analyzeWithAI('hi')) as { ok: boolean }).ok, true);
  openaiCircuit.forceOpen();
  assert.deepEqual(await analyzeWithAI('hi'), { analysis: 'pending', source: 'stub' });
});

test('seed 000: monitoring circuit state', () => {
  console.log(`OpenAI circuit: ${openaiCircuit.getState()}`);
  // Output: "closed" | "open" | "half-open"

  // Manual reset (admin action)
  openaiCircuit.reset();
  assert.equal(openaiCircuit.getState(), CircuitState.CLOSED);
});

// ---- seed 002: the OpenAI service ------------------------------------------------------------

test('seed 002: breaker around an OpenAI client with retry', async () => {
  // Service implementation
  class OpenAIService {
    private circuitBreaker = new CircuitBreaker();
    private client = { chat: { completions: { create: async (p: OpenAI.ChatCompletionCreateParams) => ({ model: p.model, choices: [] }) } } };
    private withRetry<T>(fn: () => Promise<T>) {
      return withBackoff(fn, { maxRetries: 2 });
    }

    async createChatCompletion(params: OpenAI.ChatCompletionCreateParams) {
      return this.circuitBreaker.execute(async () => {
        return await this.withRetry(() =>
          this.client.chat.completions.create(params)
        );
      });
    }
  }
  const openAIService = new OpenAIService();

  // Usage in application
  const result = await openAIService.createChatCompletion({
    model: "gpt-3.5-turbo-1106",
    messages: [{ role: 'user', content: 'hi' }]
  });
  assert.equal(result.model, 'gpt-3.5-turbo-1106');

  const circuitBreaker = new CircuitBreaker({
    failureThreshold: 5,     // Failures before opening
    resetTimeout: 30000,     // Max timeout (30 seconds)
  });
  const m: CircuitBreakerMetrics = circuitBreaker.getMetrics();
  assert.deepEqual([m.totalCalls, m.failedCalls, m.lastFailure, m.currentState], [0, 0, null, 'CLOSED']);
});

test('seed 002: user feedback from an open breaker', async () => {
  useVirtualClock();
  const cb = new CircuitBreaker({ failureThreshold: 1, resetTimeout: 30000 });
  await cb.execute(async () => { throw new Error('down'); }).catch(() => {});
  try {
    await cb.execute(async () => 'never');
    assert.fail('should reject');
  } catch (error) {
    assert.ok(error instanceof CircuitBreakerError);
    assert.equal(error.code, 'CIRCUIT_OPEN');
    assert.equal(error.state, 'OPEN');
    assert.equal(error.retryAfter, 30000);
    const seconds = Math.ceil((error.retryAfter ?? 0) / 1000);
    assert.match(`AI service is temporarily unavailable. Please try again in ${seconds} seconds.`, /try again in 30 seconds/);
    assert.match(error.message, /^Circuit breaker is open; try again in 30 seconds$/);
  }
});

// ---- seed 003: the resilience manager ---------------------------------------------------------

test('seed 003: quick start with the resilience manager', async () => {
  // Execute with pre-configured policy
  const result = await resilienceManager.execute(
    'my-operation',
    async () => {
      // Your operation here
      return await riskyOperation();
    },
    ResiliencePolicies.api()
  );
  assert.equal(result, 'risky-ok');
});

test('seed 003: decorators', async () => {
  class MyService {
    @WithResilience('fetch-data', ResiliencePolicies.database())
    async fetchData(id: string) {
      return await database.query(`SELECT * FROM data WHERE id = ?`, [id]);
    }
  }
  const r = await new MyService().fetchData('7');
  assert.deepEqual(r.params, ['7']);
});

test('seed 003: basic breaker usage', async () => {
  const breaker = createCircuitBreaker('external-api-003', {
    failureThreshold: 5,        // Open after 5 consecutive failures
    failureRateThreshold: 0.5,  // Open if 50% of requests fail
    resetTimeout: 60000,        // Try half-open after 1 minute
    timeout: 3000,              // Individual call timeout
    volumeThreshold: 10         // Min calls before checking thresholds
  });

  try {
    const result = await breaker.execute(async () => {
      return await externalApi.call();
    });
    assert.equal(result, 'external-ok');
  } catch (error) {
    if (error.code === 'CIRCUIT_OPEN') {
      // Circuit is open, use fallback
    }
  }
});

test('seed 003: advanced configuration with events', async () => {
  const seen: string[] = [];
  const breaker = createCircuitBreaker('ai-service', {
    failureThreshold: 3,
    failureRateThreshold: 0.5,
    successThreshold: 5,              // Successes needed to close
    timeout: 120000,                  // 2 minute timeout for AI
    resetTimeout: 120000,             // 2 minutes before retry
    volumeThreshold: 5,
    slowCallDurationThreshold: 5000,  // Calls > 5s are "slow"
    slowCallRateThreshold: 0.3        // Open if 30% calls are slow
  });

  // Monitor state changes
  breaker.on('stateChange', ({ previousState, currentState }) => {
    console.log(`Circuit ${previousState} -> ${currentState}`);
    seen.push(`${previousState}->${currentState}`);
  });

  // Monitor calls
  breaker.on('call', ({ success, duration, error }) => {
    console.log(`Call completed: ${success ? 'success' : 'failure'} in ${duration}ms`);
    seen.push(success ? 'call ok' : 'call failed');
  });

  await breaker.execute(async () => 'fine');
  for (let i = 0; i < 3; i++) await breaker.execute(async () => { throw new Error('x'); }).catch(() => {});
  assert.deepEqual(seen, ['call ok', 'call failed', 'call failed', 'call failed', 'CLOSED->OPEN']);
});

test('seed 003: registry getOrCreate, health, resetAll', () => {
  // Get or create breakers
  const breaker = circuitBreakerRegistry.getOrCreate('my-service', () => ({
    failureThreshold: 5,
    resetTimeout: 60000
  }));
  assert.equal(breaker, circuitBreakerRegistry.getOrCreate('my-service', () => ({ failureThreshold: 1 })));

  // Get health status
  const health = circuitBreakerRegistry.getHealthStatus();
  console.log(`Healthy: ${health.healthy}, Unhealthy: ${health.unhealthy}`);
  assert.equal(health.healthy + health.unhealthy, health.total);

  // Reset all breakers
  circuitBreakerRegistry.resetAll();
});

test('seed 003: retry policies', async () => {
  useVirtualClock();
  apiCalls = 0;
  // Fixed delay
  await executeWithRetry(
    () => apiCall(),
    RetryPolicies.fixed(3, 1000)  // 3 attempts, 1s delay
  );

  // Exponential backoff
  await executeWithRetry(
    () => apiCall(),
    RetryPolicies.exponential(5, 100, 30000)  // 5 attempts, 100ms initial, 30s max
  );

  // API rate limit handling
  await executeWithRetry(
    () => apiCall(),
    RetryPolicies.apiRateLimit()  // Smart retry for rate limits
  ).catch((e) => assert.equal(e.code, 'NETWORK_ERROR', 'rate-limit policy does not retry network errors'));

  // Network errors
  await executeWithRetry(
    () => networkCall(),
    RetryPolicies.network()  // Retry network errors
  );
});

test('seed 003: custom and conditional retry', async () => {
  useVirtualClock();
  const messages: string[] = [];
  let n = 0;
  const retryConfig = {
    maxAttempts: 5,
    initialDelay: 1000,
    maxDelay: 30000,
    backoffMultiplier: 2,
    jitter: true,  // Add randomness to prevent thundering herd
    retryableErrors: ['TIMEOUT', 'NETWORK_ERROR', '503'],
    onRetry: (attempt: number, error: Error, delay: number) => {
      console.log(`Retry attempt ${attempt} after ${delay}ms due to: ${error.message}`);
      messages.push(`${attempt}`);
    }
  };

  const r = await executeWithRetry(() => (++n < 3 ? Promise.reject(Object.assign(new Error('busy'), { status: 503 })) : operation()), retryConfig);
  assert.equal(r, 'operation-ok');
  assert.deepEqual(messages, ['1', '2']);

  const retryConfig2 = {
    maxAttempts: 3,
    initialDelay: 1000,
    retryableErrors: (error: any) => {
      // Custom logic
      return error.code === 'RATE_LIMIT' ||
             error.message.includes('temporarily unavailable');
    }
  };
  apiCalls = 0;
  assert.equal(await executeWithRetry(() => apiCall(), retryConfig2), 'api-ok');
});

test('seed 003: timeouts', async () => {
  const clock = useVirtualClock({ autoAdvance: false });
  const basic = (async () => {
    try {
      const result = await withTimeout(
        () => slowOperation(),
        5000  // 5 second timeout
      );
      assert.fail(`no timeout: ${result}`);
    } catch (error) {
      if (error instanceof TimeoutError) {
        console.log(`Operation timed out after ${error.duration}ms`);
        assert.equal(error.duration, 5000);
      } else throw error;
    }
  })();
  await clock.advance(5000);
  await basic;

  const withFallback = withTimeout(
    () => slowOperation(),
    {
      timeout: 5000,
      fallback: () => 'Default value',
      onTimeout: (duration) => {
        console.log(`Timed out after ${duration}ms, using fallback`);
      }
    }
  );
  await clock.advance(5000);
  const result = await withFallback;
  assert.equal(result, 'Default value');

  // Register timeout configurations
  timeoutManager.register('api.weather', { timeout: 10000 });
  timeoutManager.register('api.ai', { timeout: 120000 });

  // Use managed timeout
  const weather = await timeoutManager.execute('api.weather', async () => {
    return await fetchWeatherData();
  });
  assert.deepEqual(weather, { temp: 21 });
});

test('seed 003: bulkheads', async () => {
  const bulkhead = createBulkhead('api-calls', 10, 50);  // 10 concurrent, 50 queued

  try {
    const result = await bulkhead.execute(async () => {
      return await apiCall();
    });
    void result;
  } catch (error) {
    if (error.code === 'BULKHEAD_QUEUE_FULL') {
      // Too many requests, reject
    }
  }

  const rejections: string[] = [];
  const bulkhead2 = new Bulkhead({
    name: 'database-queries',
    maxConcurrent: 20,
    maxQueueSize: 100,
    timeout: 30000,  // Queue timeout
    onReject: (reason) => {
      console.log(`Bulkhead rejected: ${reason}`);
      rejections.push(reason);
    }
  });

  // Monitor state
  const started: number[] = [];
  bulkhead2.on('executionStarted', ({ active, queued }) => {
    console.log(`Active: ${active}, Queued: ${queued}`);
    started.push(active);
  });

  await Promise.all(Array.from({ length: 3 }, () => bulkhead2.execute(async () => 1)));
  // Get metrics
  const metrics = bulkhead2.getMetrics();
  console.log(`Completed: ${metrics.completed}, Rejected: ${metrics.rejected}`);
  assert.equal(metrics.completed, 3);
  assert.equal(started.length, 3);
});

test('seed 003: policies, custom policy and API route', async () => {
  for (const p of [ResiliencePolicies.api(), ResiliencePolicies.ai(), ResiliencePolicies.database(), ResiliencePolicies.external(), ResiliencePolicies.critical()]) {
    assert.equal(typeof p.timeout, 'number');
  }
  const customPolicy = {
    circuitBreaker: {
      failureThreshold: 10,
      resetTimeout: 300000  // 5 minutes
    },
    retry: {
      maxAttempts: 5,
      initialDelay: 2000,
      maxDelay: 60000,
      backoffMultiplier: 3
    },
    timeout: 120000,  // 2 minutes
    bulkhead: {
      maxConcurrent: 3,
      maxQueueSize: 10
    },
    fallback: () => ({
      success: false,
      data: 'Service unavailable'
    })
  };

  assert.equal(await resilienceManager.execute('custom-op', operation, customPolicy), 'operation-ok');

  const POST = async (request: NextRequest) => {
    const body = await request.json() as { id: string };

    return resilienceManager.execute(
      'api.process',
      async () => {
        // External API call
        const external = await fetchExternalData(body.id);

        // AI processing
        const analysis = await processWithAI(external);

        // Store results
        const stored = await storeInDatabase(analysis);

        return NextResponse.json({ success: true, data: stored });
      },
      {
        ...ResiliencePolicies.api(),
        fallback: () => NextResponse.json(
          { success: false, message: 'Service temporarily unavailable' },
          { status: 503 }
        )
      }
    );
  };
  const res = await POST(new NextRequest({ id: '1' }));
  assert.equal(res.status, 200);
});

test('seed 003: service class with stacked decorators', async () => {
  class DataService {
    @WithCircuitBreaker('data-fetch', { failureThreshold: 5 })
    @WithRetry(RetryPolicies.exponential())
    @WithTimeout(30000)
    async fetchData(id: string) {
      return await externalApi.getData(id);
    }

    @WithResilience('process-batch', {
      bulkhead: { maxConcurrent: 5 },
      retry: { maxAttempts: 2 },
      timeout: 60000
    })
    async processBatch(items: any[]) {
      return await Promise.all(
        items.map(item => this.processItem(item))
      );
    }

    async processItem(item: any) {
      return item * 2;
    }
  }
  const s = new DataService();
  assert.deepEqual(await s.fetchData('a'), { id: 'a' });
  assert.deepEqual(await s.processBatch([1, 2]), [2, 4]);
});

test('seed 003: health monitoring endpoint', async () => {
  const GET = async () => {
    const health = resilienceManager.getHealthStatus();

    return NextResponse.json({
      status: health.summary.healthy ? 'healthy' : 'degraded',
      circuitBreakers: {
        total: health.circuitBreakers.total,
        open: health.circuitBreakers.byState.OPEN,
        halfOpen: health.circuitBreakers.byState.HALF_OPEN
      },
      bulkheads: health.bulkheads.map(b => ({
        name: b.name,
        utilization: (b.state.active / (b.state.active + b.state.available)) * 100
      })),
      issues: health.summary.issues
    }, {
      status: health.summary.healthy ? 200 : 503
    });
  };
  const r = await GET();
  assert.ok(r.status === 200 || r.status === 503);
  assert.equal(typeof (r.body as { circuitBreakers: { total: number } }).circuitBreakers.total, 'number');
});

test('seed 003: best practices, alerts and forced-open tests', async () => {
  // Fast, critical service
  createCircuitBreaker('critical-api', {
    failureThreshold: 3,      // Open quickly
    resetTimeout: 30000,      // Reset quickly
    timeout: 5000             // Fail fast
  });

  // Slow, less critical service
  createCircuitBreaker('reporting-api', {
    failureThreshold: 10,     // More tolerant
    resetTimeout: 300000,     // Longer reset
    timeout: 60000            // Allow more time
  });

  alerts.length = 0;
  const off = circuitBreakerRegistry.on('stateChange', ({ name, currentState }) => {
    if (currentState === CircuitState.OPEN) {
      alertingService.send({
        severity: 'high',
        message: `Circuit breaker ${name} is OPEN`
      });
    }
  });
  const critical = circuitBreakerRegistry.get('critical-api')!;
  for (let i = 0; i < 3; i++) await critical.execute(async () => { throw new Error('down'); }).catch(() => {});
  off();
  assert.deepEqual(alerts, [{ severity: 'high', message: 'Circuit breaker critical-api is OPEN' }]);

  createCircuitBreaker('external-api');
  // Force circuit open for testing
  if (process.env.NODE_ENV === 'test' || true) {
    circuitBreakerRegistry.get('external-api')?.forceOpen();
  }
  assert.equal(circuitBreakerRegistry.get('external-api')?.getState(), 'FORCED_OPEN');

  const policy = {
    retry: RetryPolicies.exponential(3),
    circuitBreaker: { failureThreshold: 5 },
    timeout: 10000,
    bulkhead: { maxConcurrent: 20 }
  };
  assert.equal(await resilienceManager.execute('combined', async () => 'combined-ok', policy), 'combined-ok');
});

// ---- seed 004: named breakers ------------------------------------------------------------------

test('seed 004: withCircuitBreaker basic and with options', async () => {
  // Wrap external API call with circuit breaker
  const result = await withCircuitBreaker("my-external-service", async () => {
    return fetch("https://api.example.com/data");
  });
  assert.equal(result.status, 200);

  const result2 = await withCircuitBreaker(
    "my-external-service-2",
    async () => {
      return fetch("https://api.example.com/data");
    },
    {
      failureThreshold: 5, // Open after 5 failures
      recoveryTimeout: 60000, // Wait 1 minute before testing recovery
      successThreshold: 2, // Close after 2 successful tests
      requestTimeout: 30000, // Timeout individual requests after 30 seconds
    }
  );
  assert.equal(result2.status, 200);
});

test('seed 004: breaker instance, stats, callbacks', async () => {
  const breaker = createCircuitBreaker("my-service", {
    failureThreshold: 3,
    recoveryTimeout: 30000,
  });

  // Execute multiple requests with the same breaker
  const result1 = await breaker.execute(async () => {
    return fetch("https://api.example.com/endpoint1");
  });

  const result2 = await breaker.execute(async () => {
    return fetch("https://api.example.com/endpoint2");
  });
  assert.equal(result1.status + result2.status, 400);

  // Check circuit state
  console.log(breaker.getState()); // CLOSED, OPEN, or HALF_OPEN

  // Get statistics
  console.log(breaker.getStats());

  const transitions: string[] = [];
  const breaker2 = createCircuitBreaker("my-service-callbacks", {
    failureThreshold: 1,
    onStateChange: (oldState, newState) => {
      console.log(`Circuit transitioned: ${oldState} -> ${newState}`);
      transitions.push(`${oldState}->${newState}`);
    },
    onOpen: () => {
      console.error("Circuit opened! Service is failing.");
      transitions.push('onOpen');
      // Send alert, log to monitoring system, etc.
    },
    onClose: () => {
      console.log("Circuit closed! Service has recovered.");
      transitions.push('onClose');
    },
  });
  await breaker2.execute(async () => { throw new Error('x'); }).catch(() => {});
  breaker2.reset();
  assert.deepEqual(transitions, ['CLOSED->OPEN', 'onOpen', 'OPEN->CLOSED', 'onClose']);
});

test('seed 004: registry, error handling, integrations, testing', async () => {
  createCircuitBreaker('google-oauth-token-exchange', { failureThreshold: 3, recoveryTimeout: 30000, requestTimeout: 10000 });
  // Get all circuit breakers
  const allBreakers = circuitBreakerRegistry.getAll();

  // Get statistics for all breakers
  const allStats = circuitBreakerRegistry.getAllStats();
  assert.equal(allStats.length, allBreakers.length);
  const s = allStats.find((x) => x.name === 'google-oauth-token-exchange')!;
  assert.deepEqual([s.state, s.failureCount, s.successCount, s.nextAttemptTime], ['CLOSED', 0, 0, 0]);

  // Reset all breakers (useful for testing)
  circuitBreakerRegistry.resetAll();

  // Get a specific breaker
  const breaker = circuitBreakerRegistry.get("my-service");
  assert.ok(breaker);

  breaker!.open();
  try {
    const result = await withCircuitBreaker("my-service", async () => {
      return fetch("https://api.example.com/data");
    });
    assert.fail(`should be open: ${result.status}`);
  } catch (error) {
    if (error instanceof CircuitBreakerError) {
      console.error("Circuit is open:", error.message);
      console.error("Circuit state:", error.state);
      assert.equal(error.state, 'OPEN');
      // Provide fallback response or cached data
    } else {
      // Handle other errors
      console.error("Request failed:", error);
      throw error;
    }
  }

  const tokenResponse = await withCircuitBreaker(
    "google-oauth-token-exchange",
    async () => {
      return fetch("https://oauth2.googleapis.com/token", {
        method: "POST",
        // ... request config
      });
    },
    {
      failureThreshold: 3,
      recoveryTimeout: 30000,
      requestTimeout: 10000,
    }
  );
  assert.equal(tokenResponse.status, 200);

  const baseUrl = 'https://api.mlsgrid.com';
  const agentId = 'a1';
  const apiKey = API_KEY;
  const response = await withCircuitBreaker(
    "mlsgrid-api",
    async () => {
      return fetch(`${baseUrl}/listings?agentId=${agentId}`, {
        headers: {
          Authorization: `Bearer ${apiKey}`,
          // ... headers
        },
      });
    },
    {
      failureThreshold: 5,
      recoveryTimeout: 60000,
      requestTimeout: 30000,
    }
  );
  assert.equal(response.status, 200);

  // Get all stats for monitoring dashboard
  const stats = circuitBreakerRegistry.getAllStats();
  assert.ok(stats.some((x) => x.name === 'mlsgrid-api' && x.totalCalls === 1));

  const testBreaker = createCircuitBreaker("test-service");

  // Manually open the circuit
  testBreaker.open();

  // Manually reset the circuit
  testBreaker.reset();

  // Clear all breakers between tests
  circuitBreakerRegistry.clear();
  assert.equal(circuitBreakerRegistry.get('test-service'), undefined);
});
