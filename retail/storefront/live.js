/*
 * One WebSocket to `/v1/live` shared by every live panel. Subscriptions are reference
 * counted per (view, key); each keeps the newest pushed value so a late panel shows it at
 * once. When the socket drops it reconnects with jittered exponential backoff and
 * subscribes again with `after` = the last token seen, so a reconnect never shows an older
 * value than the page already showed.
 *
 * Auth: browsers cannot set headers on a WebSocket, so the bearer token travels as the
 * `?access_token=` query parameter of the upgrade request (socketUrl).
 */

const firstRetryMs = 250;
const maxRetryMs = 10_000;

/** The page's WebSocket URL for `path` (`/v1/live`, `/v1/sync`), with the token when there is one. */
export function socketUrl(path, token) {
  const url = new URL(path, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (token) url.searchParams.set('access_token', token);
  return url.href;
}

export class LiveConnection {
  #url;
  #onStatus;
  /** ref → {view, key, listeners, latest} */
  #subscriptions = new Map();
  #socket = null;
  #attempt = 0;
  #retryTimer = undefined;
  #closed = false;
  #reconnectNow = () => this.#retrySoon(0);

  /** `onStatus({state: 'connecting' | 'open' | 'retrying', retryInMs?})` */
  constructor(url, onStatus) {
    this.#url = url;
    this.#onStatus = onStatus;
    addEventListener('online', this.#reconnectNow);
    this.#connect();
  }

  /**
   * Calls `listener({token, value})` on every push for the view and `listener({error})` when
   * the server refuses the subscription. Returns the unsubscribe function.
   */
  subscribe(view, key, listener) {
    const ref = `${view}/${key}`;
    let subscription = this.#subscriptions.get(ref);
    if (!subscription) {
      subscription = { view, key, listeners: new Set(), latest: undefined };
      this.#subscriptions.set(ref, subscription);
      this.#sendSubscribe(ref, subscription);
    }
    subscription.listeners.add(listener);
    if (subscription.latest) listener(subscription.latest);
    return () => {
      subscription.listeners.delete(listener);
      if (subscription.listeners.size > 0 || this.#subscriptions.get(ref) !== subscription) return;
      this.#subscriptions.delete(ref);
      this.#send({ op: 'unsubscribe', view, key });
    };
  }

  close() {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    removeEventListener('online', this.#reconnectNow);
    this.#socket?.close(1000, 'page closed the connection');
  }

  #connect() {
    this.#onStatus({ state: 'connecting' });
    const socket = new WebSocket(this.#url);
    this.#socket = socket;
    socket.onopen = () => {
      this.#attempt = 0;
      this.#onStatus({ state: 'open' });
      for (const [ref, subscription] of this.#subscriptions) this.#sendSubscribe(ref, subscription);
    };
    socket.onmessage = (message) => this.#receive(message.data);
    socket.onclose = () => {
      if (this.#socket !== socket || this.#closed) return;
      this.#socket = null;
      const delay = Math.min(maxRetryMs, firstRetryMs * 2 ** this.#attempt++);
      this.#retrySoon(Math.round(delay * (0.5 + Math.random() / 2)));
    };
  }

  #retrySoon(delayMs) {
    if (this.#closed || this.#socket) return;
    clearTimeout(this.#retryTimer);
    this.#onStatus({ state: 'retrying', retryInMs: delayMs });
    this.#retryTimer = setTimeout(() => this.#connect(), delayMs);
  }

  #receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (frame.op === 'view') {
      const subscription = this.#subscriptions.get(`${frame.view}/${frame.key}`);
      if (!subscription) return;
      subscription.latest = { token: frame.token, value: frame.value };
      for (const listener of subscription.listeners) listener(subscription.latest);
    } else if (frame.op === 'error') {
      const subscription = frame.ref === undefined ? undefined : this.#subscriptions.get(frame.ref);
      if (subscription) for (const listener of subscription.listeners) listener({ error: frame.error });
      else console.warn('live error', frame.error);
    }
  }

  #sendSubscribe(ref, { view, key, latest }) {
    this.#send({ op: 'subscribe', view, key, ref, ...(latest ? { after: latest.token } : {}) });
  }

  #send(frame) {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(frame));
  }
}
