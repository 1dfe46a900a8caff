import { FoldlineError } from '../../base/errors.js';
import type { Frontier } from '../../crdt/index.js';
import type { GatewayViews } from '../../gateway/types.js';
import type { ViewValue } from '../../joiner/types.js';

type Listener = (value: ViewValue) => void;

/**
 * Views whose values the bench sets directly: the gateway's push path (frames, coalescing,
 * backpressure, corked sends) measured without the ledger, the fold and view recompute in
 * front of it. Each `publish` is a new ViewValue object, as the view engine makes.
 */
export class DrivenViews implements GatewayViews {
  private readonly values = new Map<string, ViewValue>();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(
    private readonly view: string,
    private readonly initial: (key: string) => unknown,
    private readonly token: Frontier,
  ) {}

  publish(key: string, value: unknown): void {
    const current: ViewValue = { view: this.view, key, value, json: JSON.stringify(value), frontier: this.token };
    this.values.set(key, current);
    for (const listener of this.listeners.get(key) ?? []) listener(current);
  }

  async read(_view: string, key: string): Promise<ViewValue> {
    return this.current(key);
  }

  async subscribe(_view: string, key: string, listener: Listener): Promise<() => void> {
    const listeners = this.listeners.get(key) ?? new Set<Listener>();
    listeners.add(listener);
    this.listeners.set(key, listeners);
    listener(this.current(key));
    return () => listeners.delete(listener);
  }

  checkViewKey(view: string): void {
    if (view !== this.view) throw new FoldlineError('unknown_view', `no view named ${JSON.stringify(view)}`, { path: '/view' });
  }

  frontier(): Frontier {
    return this.token;
  }

  private current(key: string): ViewValue {
    let value = this.values.get(key);
    if (!value) {
      const initial = this.initial(key);
      value = { view: this.view, key, value: initial, json: JSON.stringify(initial), frontier: this.token };
      this.values.set(key, value);
    }
    return value;
  }
}
