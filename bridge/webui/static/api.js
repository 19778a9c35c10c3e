// The bridge's REST API as the WebUI uses it: same-origin fetches
// authenticated by the det_token cookie that POST /auth/login sets.

// ApiError is a failed request; status 0 means the bridge did not answer.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let unauthorized = () => {};

// errorMessage is the text of an error answer's body, in Determined's
// shape: its message, else error.error.
function errorMessage(data) {
  if (!data) return '';
  return data.message || (data.error && data.error.error) || '';
}

// onUnauthorized sets what happens when the session has ended (any 401
// but that of the login request itself).
export function onUnauthorized(fn) { unauthorized = fn; }

// api calls /api/v1 + path and returns the decoded JSON body (null for 204).
export async function api(path, { method = 'GET', body, signal } = {}) {
  const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin', signal };
  if (body !== undefined) {
    opts.body = JSON.stringify(body);
    opts.headers['Content-Type'] = 'application/json';
  }
  let resp;
  try {
    resp = await fetch(`/api/v1${path}`, opts);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'cannot reach the bridge');
  }
  if (resp.status === 204) return null;
  let data = null;
  try {
    data = await resp.json();
  } catch {
    // a proxy's or a restarting server's non-JSON answer
  }
  if (!resp.ok) {
    if (resp.status === 401 && path !== '/auth/login') unauthorized();
    const msg = errorMessage(data) || `${resp.status} ${resp.statusText}`;
    throw new ApiError(resp.status >= 502 && resp.status <= 504 ? 0 : resp.status, msg);
  }
  return data;
}

// streamLines calls a JSON-lines route and gives each decoded object to
// onLine; it resolves when the server ends the stream.
export async function streamLines(path, onLine, signal) {
  let resp;
  try {
    resp = await fetch(`/api/v1${path}`, { credentials: 'same-origin', signal, headers: { Accept: 'application/x-ndjson' } });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'cannot reach the bridge');
  }
  if (!resp.ok) {
    if (resp.status === 401) unauthorized();
    let msg = `${resp.status} ${resp.statusText}`;
    try { msg = errorMessage(await resp.json()) || msg; } catch { /* not JSON */ }
    throw new ApiError(resp.status, msg);
  }
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let rest = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    const parts = (rest + value).split('\n');
    rest = parts.pop();
    for (const p of parts) if (p.trim()) onLine(JSON.parse(p));
  }
  if (rest.trim()) onLine(JSON.parse(rest));
}
