/**
 * `createResilientAxiosAdapter(base, options)`: an axios adapter (`axios.create({ adapter })`) that
 * runs each request through the same policy stack as `createResilientFetch` — retries outermost,
 * then per attempt a rate limiter's place, a bulkhead's slot, the breaker and a timeout — around
 * `base`, axios's own adapter (`axios.getAdapter('http')`, `'fetch'` …): seawall never imports
 * axios. A response axios would reject for its status is judged by the core's rule like any
 * other (a 404 is not a breaker failure, a 503 may be retried), and when it is the answer the
 * request rejects with axios's own error, as without us. A stream given as the body is sent once.
 */
import { holding } from './held.js';
import { checkedConfig, type Exchange, httpStack, linkSignals, type ResilientFetchConfig } from './fetch.js';

/** As much of axios's adapter contract as the policies need. */
export interface AxiosLikeConfig {
  method?: string;
  url?: string;
  baseURL?: string;
  headers?: unknown;
  data?: unknown;
  signal?: unknown;
}

/** The request's headers as a plain object (axios's `AxiosHeaders` reads itself out with `toJSON`). */
function plainHeaders(h: unknown): Record<string, unknown> {
  const j = (h as { toJSON?: () => unknown } | null | undefined)?.toJSON;
  return (typeof j === 'function' ? j.call(h) : (h ?? {})) as Record<string, unknown>;
}
export interface AxiosLikeResponse {
  status: number;
  headers?: unknown;
  data?: unknown;
}
export type AxiosLikeAdapter<C extends AxiosLikeConfig = AxiosLikeConfig, R extends AxiosLikeResponse = AxiosLikeResponse> = (config: C) => Promise<R>;

/** An attempt's end: the response, and axios's rejection of it for its status if it made one. */
interface Answer<R> {
  response: R;
  rejection?: unknown;
}

function isStatusRejection(e: unknown): e is { response: AxiosLikeResponse } {
  const r = (e as { isAxiosError?: unknown; response?: { status?: unknown } } | null)?.response;
  return (e as { isAxiosError?: unknown } | null)?.isAxiosError === true && typeof r?.status === 'number';
}

function isStream(data: unknown): boolean {
  return (typeof ReadableStream !== 'undefined' && data instanceof ReadableStream) || typeof (data as { pipe?: unknown } | null)?.pipe === 'function';
}

const AXIOS_EXCHANGE: Exchange<Answer<AxiosLikeResponse>> = {
  status: (a) => a.response.status,
  headers: (a) => a.response.headers,
  // A streamed body (responseType 'stream') no one will read is destroyed.
  discard: (a) => (a.response.data as { destroy?: () => void } | null)?.destroy?.(),
  // A streamed body (a Node stream) is done when it closes: failed if it closed on an error.
  hold: (a) => {
    const data = a.response.data as NodeStreamLike | null | undefined;
    if (typeof data?.once !== 'function' || typeof data.pipe !== 'function' || data.closed === true) return a;
    // Its 'close' is watched, not its 'error': an error listener would keep an unwatched error
    // from reaching the process as it does without us.
    const ended = new Promise<void>((resolve, reject) => data.once('close', () => (data.errored ? reject(data.errored) : resolve())));
    return holding(a, ended);
  },
};

/** As much of a Node readable stream as holding its response needs. */
interface NodeStreamLike {
  once(event: 'close', listener: () => void): unknown;
  pipe: unknown;
  closed?: boolean;
  errored?: unknown;
}

export function createResilientAxiosAdapter<C extends AxiosLikeConfig, R extends AxiosLikeResponse>(
  base: AxiosLikeAdapter<C, R>,
  config: Omit<ResilientFetchConfig, 'fetch'> = {},
): AxiosLikeAdapter<C, R> {
  if (typeof base !== 'function') throw Object.assign(new TypeError(`invalid option adapter: expected axios's adapter (axios.getAdapter('http')), got ${String(base)}`), { code: 'INVALID_OPTION', option: 'adapter', value: String(base) });
  const { circuitBreaker, bulkhead, rateLimiter, options } = checkedConfig(config);
  const stack = httpStack(AXIOS_EXCHANGE as Exchange<Answer<R>>, circuitBreaker, options, { bulkhead, rateLimiter });
  return async (request: C): Promise<R> => {
    const callerSignal = request.signal instanceof AbortSignal ? request.signal : undefined;
    const answer = await stack({
        method: (request.method ?? 'get').toUpperCase(),
        url: () => request.url === undefined || /^[a-z]+:/i.test(request.url) ? (request.url ?? '') : `${request.baseURL ?? ''}${request.url}`,
        replayable: !isStream(request.data),
        callerSignal,
        send: (signals, headers) => {
          const { signal, unlink } = linkSignals([...signals, callerSignal]);
          const sent = headers === undefined ? { ...request, signal } : { ...request, signal, headers: { ...plainHeaders(request.headers), ...headers } };
          return base(sent).then(
            (response) => ({ response }),
            (e: unknown) => {
              unlink();
              if (isStatusRejection(e)) return { response: e.response as R, rejection: e };
              throw e;
            },
          );
        },
    });
    if (answer.rejection !== undefined) throw answer.rejection;
    return answer.response;
  };
}
