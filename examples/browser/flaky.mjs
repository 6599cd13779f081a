// The example's flaky backend: GET /api/quote answers according to a mode the page sets with
// POST /api/mode/<healthy|failing|throttled|slow>. Shared by the example server and its test.
let mode = 'healthy';
let served = 0;

export function flakyApi(url, req, res) {
  if (url.pathname.startsWith('/api/mode/') && req.method === 'POST') {
    mode = url.pathname.slice('/api/mode/'.length);
    res.writeHead(204);
    res.end();
    return true;
  }
  if (url.pathname !== '/api/quote') return false;
  served++;
  const json = (status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  };
  if (mode === 'failing') return json(503, { error: 'backend down' }), true;
  if (mode === 'throttled') return json(429, { error: 'slow down' }, { 'retry-after': '1' }), true;
  if (mode === 'slow') return true; // never answers: the client's timeout ends it
  json(200, { quote: `quote #${served}`, at: new Date().toISOString() });
  return true;
}

export function resetFlakyApi() {
  mode = 'healthy';
  served = 0;
}
