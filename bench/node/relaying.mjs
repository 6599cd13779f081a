// The least any undici interceptor does: relay undici's events (undici converts its handler API
// at each interceptor); `timed`: also arm and clear a timer per request (what a per-attempt
// timeout needs). The floor the HTTP benches measure the interceptor against.
export const relaying = (timed) => (dispatch) => (opts, handler) => {
  const timer = timed ? setTimeout(() => {}, 30_000) : undefined;
  return dispatch(opts, {
    onRequestStart: (c, context) => handler.onRequestStart?.(c, context),
    onResponseStart: (c, status, headers, message) => (clearTimeout(timer), handler.onResponseStart?.(c, status, headers, message)),
    onResponseData: (c, chunk) => handler.onResponseData?.(c, chunk),
    onResponseEnd: (c, trailers) => handler.onResponseEnd?.(c, trailers),
    onResponseError: (c, e) => (clearTimeout(timer), handler.onResponseError?.(c, e)),
  });
};
