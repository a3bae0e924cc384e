// The tutor's HTTP API as the page uses it: JSON calls, the streamed answer read from a POST
// (EventSource can neither POST nor send a token), and every failure as an ApiError made from
// the API's error body {"error": {"type", "message"}}.

const TOKEN_KEY = "tutor.token";

// The tab's sessionStorage: gone when the tab closes, never in a URL or a cookie.
export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, type, message, detail = {}, retryAfterS = null) {
    super(message);
    this.status = status;
    this.type = type;
    this.detail = detail;
    this.retryAfterS = retryAfterS;
  }
}

function headers(accept, withBody) {
  const out = { Accept: accept };
  if (withBody) out["Content-Type"] = "application/json";
  const bearer = token.get();
  if (bearer) out.Authorization = `Bearer ${bearer}`;
  return out;
}

async function failure(response) {
  let detail = {};
  try {
    const body = await response.json();
    if (body && typeof body.error === "object" && body.error) detail = body.error;
  } catch {
    // not JSON (a proxy's page): the status says enough
  }
  const header = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  const retry = Number.isFinite(header) ? header : Number(detail.retry_after_s);
  return new ApiError(
    response.status,
    String(detail.type ?? "http_error"),
    String(detail.message ?? `The tutor answered ${response.status} ${response.statusText}`),
    detail,
    Number.isFinite(retry) ? retry : null,
  );
}

async function send(path, method, body, accept, signal) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: headers(accept, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, "network", "The tutor cannot be reached. Check your connection.");
  }
  if (!response.ok) throw await failure(response);
  return response;
}

export async function call(path, { method = "GET", body, signal } = {}) {
  const response = await send(path, method, body, "application/json", signal);
  return response.json();
}

// Yields each server-sent event's data (a JSON object whose `type` names the event).
export async function* stream(path, body, signal) {
  const response = await send(path, "POST", body, "text/event-stream", signal);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");
      const event = parse(block);
      if (event) yield event;
    }
  }
}

function parse(block) {
  const data = [];
  for (const line of block.split(/\r?\n/)) {
    if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
  }
  return data.length ? JSON.parse(data.join("\n")) : null;
}
