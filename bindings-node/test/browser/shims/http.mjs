// `node:http`'s createServer in a page, for the seed examples: a page cannot listen, so the
// "server" lives in the page and `fetch` to its 127.0.0.1 address is answered by its handler
// (through real Response objects and AbortSignals, as a network answer would be). Real HTTP to
// a flaky server on 127.0.0.1 from the browser is tested by shell.html.
const servers = new Map();
let nextPort = 40_000;
const networkFetch = globalThis.fetch.bind(globalThis);

globalThis.fetch = (input, init = {}) => {
  const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, location.href);
  const handler = url.hostname === '127.0.0.1' ? servers.get(Number(url.port)) : undefined;
  if (handler === undefined) return networkFetch(input, init);
  const signal = init.signal ?? (input instanceof Request ? input.signal : undefined);
  return new Promise((resolve, reject) => {
    const abort = () => reject(signal.reason ?? new DOMException('This operation was aborted', 'AbortError'));
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });
    let status = 200;
    let headers = {};
    const req = { method: (init.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(), url: url.pathname + url.search, headers: {} };
    const res = {
      writeHead(s, h = {}) {
        status = s;
        headers = h;
        return res;
      },
      end(body = '') {
        signal?.removeEventListener('abort', abort);
        resolve(new Response(status === 204 ? null : body, { status, headers }));
      },
    };
    queueMicrotask(() => handler(req, res));
  });
};

export function createServer(handler) {
  let port;
  return {
    listen(_port, _host, cb) {
      port = nextPort++;
      servers.set(port, handler);
      cb?.();
    },
    address: () => ({ address: '127.0.0.1', family: 'IPv4', port }),
    close(cb) {
      servers.delete(port);
      cb?.();
    },
  };
}
export default { createServer };
