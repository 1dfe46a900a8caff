/*
 * The HTTP half of the page's contract (docs/http-api.md, the demo endpoints the CLI
 * provides included). With auth on, every call carries `Authorization: Bearer`.
 */

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function request(method, path, { token, body, contentType } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = contentType ?? 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // A non-JSON answer (a proxy's error page): the status says enough.
  }
  if (!response.ok) {
    throw new ApiError(response.status, json?.error?.code ?? `http_${response.status}`, json?.error?.message ?? (response.statusText || 'request failed'));
  }
  return json;
}

const segment = encodeURIComponent;

/** Calls made on behalf of one signed-in customer (token null: the server runs without auth). */
export function createApi(token) {
  return {
    /** `{view, key, token, value}` */
    readView: (view, key) => request('GET', `/v1/views/${segment(view)}/${segment(key)}`, { token }),
    /** `{view, key, token, value, checkpoint, entities: [{entity, key, frontier, head, folded, lag, recent}]}` (staff and services) */
    explain: (view, key) => request('GET', `/v1/views/${segment(view)}/${segment(key)}/explain`, { token }),
    /** `{receipts: [{id, stream, shard, seq, duplicate}], token}` */
    append: (events) => request('POST', '/v1/events', { token, body: events, contentType: 'application/cloudevents-batch+json' }),
    /** `{url}`: the automerge URL of the customer's cart document (docs/offline.md) */
    cartDocument: (customerId) => request('GET', `/v1/carts/${segment(customerId)}/document`, { token }),
  };
}

/**
 * A demo list (`GET /v1/demo/categories` or `/v1/demo/stores`: a JSON array of strings), or
 * `fallback` when the server has none.
 */
export async function demoList(name, fallback) {
  try {
    const list = await request('GET', `/v1/demo/${name}`);
    return Array.isArray(list) && list.length > 0 ? list.map(String) : fallback;
  } catch {
    return fallback;
  }
}

/**
 * `POST /v1/demo/sign-in {customerId}` → `{token, customerId}`. A server without auth has no
 * sign-in endpoint (404): the page then acts as the customer with no token.
 */
export async function signIn(customerId) {
  try {
    const answer = await request('POST', '/v1/demo/sign-in', { body: { customerId } });
    return { customerId: answer?.customerId ?? customerId, token: answer?.token ?? null };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { customerId, token: null };
    throw error;
  }
}
