import type { CloudEvent } from '../../ledger/types.js';
import { Random } from '../../retail/random.js';
import { sources } from '../../retail/trafficDraft.js';

export const scenarioNames = ['browse', 'cart', 'order', 'mixed'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

/** The per-customer views a load subscribes to. */
export type LiveView = 'cart' | 'recently-viewed';

/** One arrival: a user action appended as one batch, and the view of its customer it changes. */
export interface Action {
  customerId: string;
  view: LiveView;
  events: CloudEvent[];
}

/** The views each subscriber watches under a scenario: exactly those its actions change. */
export function scenarioViews(scenario: ScenarioName): LiveView[] {
  switch (scenario) {
    case 'browse': return ['recently-viewed'];
    case 'cart':
    case 'order': return ['cart'];
    case 'mixed': return ['cart', 'recently-viewed'];
  }
}

/** What the load remembers of one customer so that every action changes a view. */
interface Shopper {
  readonly customerId: string;
  readonly cart: Map<string, number>;
  /** Last event time (ms): times grow per customer, so a view always moves the recently-viewed list. */
  lastTime: number;
}

/** Cart lines past which the cart scenario removes rather than adds: values stay small. */
const maxCartLines = 5;
/** Draws looking for a customer with no action in flight before taking a busy one anyway. */
const idleDraws = 8;

/**
 * Draws actions for a fixed set of customers over a catalog of existing skus. Each action
 * changes its view (an add, a removal of what the cart holds, a view at a later time, an order
 * with the cart service's clearing removals), so each one must be followed by a push. A
 * shopper acts again once they have seen their last action's effect, as people do: two
 * actions of one customer folded together could cancel out (add, then remove the same) and
 * leave the view as it was, with nothing to push.
 */
export class ScenarioDriver {
  private readonly random: Random;
  private readonly shoppers: Shopper[];
  private events = 0;
  private orders = 0;

  constructor(
    private readonly scenario: ScenarioName,
    customerIds: readonly string[],
    private readonly skus: readonly string[],
    /** Makes event and order ids unique to this run. */
    private readonly runId: string,
    seed: number,
  ) {
    this.random = new Random(seed);
    this.shoppers = customerIds.map((customerId) => ({ customerId, cart: new Map(), lastTime: 0 }));
  }

  /** `busy`: whether a customer still waits to see their last action. */
  next(busy: (customerId: string) => boolean, now = Date.now()): Action {
    let shopper = this.random.pick(this.shoppers);
    for (let draw = 1; draw < idleDraws && busy(shopper.customerId); draw++) shopper = this.random.pick(this.shoppers);
    shopper.lastTime = Math.max(now, shopper.lastTime + 1);
    switch (this.scenario) {
      case 'browse': return this.view(shopper);
      case 'cart': return this.cartChange(shopper);
      case 'order': return this.orderFlow(shopper);
      case 'mixed': return [this.view, this.cartChange, this.orderFlow][this.random.weighted([60, 30, 10])]!.call(this, shopper);
    }
  }

  private view(shopper: Shopper): Action {
    const sku = this.pickSku();
    return this.action(shopper, 'recently-viewed', [this.event(shopper, 'retail.customer.product-viewed', sources.web, { customerId: shopper.customerId, sku })]);
  }

  private cartChange(shopper: Shopper): Action {
    const lines = shopper.cart.size;
    return lines >= maxCartLines || (lines > 0 && this.random.chance(0.3)) ? this.remove(shopper) : this.add(shopper);
  }

  /** Fills a cart with one to three lines, then orders it. */
  private orderFlow(shopper: Shopper): Action {
    const lines = shopper.cart.size;
    return lines === 0 || (lines < 3 && this.random.chance(0.6)) ? this.add(shopper) : this.checkout(shopper);
  }

  private add(shopper: Shopper): Action {
    const sku = this.pickSku();
    const quantity = this.random.weighted([70, 20, 10]) + 1;
    shopper.cart.set(sku, (shopper.cart.get(sku) ?? 0) + quantity);
    return this.action(shopper, 'cart', [this.event(shopper, 'retail.cart.item-added', sources.web, { customerId: shopper.customerId, sku, quantity })]);
  }

  private remove(shopper: Shopper): Action {
    const sku = this.random.pick([...shopper.cart.keys()]);
    const inCart = shopper.cart.get(sku)!;
    const quantity = this.random.between(1, inCart);
    if (quantity === inCart) shopper.cart.delete(sku);
    else shopper.cart.set(sku, inCart - quantity);
    return this.action(shopper, 'cart', [this.event(shopper, 'retail.cart.item-removed', sources.web, { customerId: shopper.customerId, sku, quantity })]);
  }

  /** The order and the cart service's removals in one batch: the cart empties. */
  private checkout(shopper: Shopper): Action {
    const { customerId } = shopper;
    const lines = [...shopper.cart].map(([sku, quantity]) => ({ sku, quantity }));
    shopper.cart.clear();
    const orderId = `o-load-${this.runId}-${++this.orders}`;
    return this.action(shopper, 'cart', [
      this.event(shopper, 'retail.order.placed', sources.web, { customerId, orderId, lines }),
      ...lines.map((line) => this.event(shopper, 'retail.cart.item-removed', sources.cart, { customerId, ...line })),
    ]);
  }

  /** Zipf-popular, as shoppers are. */
  private pickSku(): string {
    return this.skus[this.random.zipf(this.skus.length)]!;
  }

  private action(shopper: Shopper, view: LiveView, events: CloudEvent[]): Action {
    return { customerId: shopper.customerId, view, events };
  }

  private event(shopper: Shopper, type: string, source: string, data: Record<string, unknown>): CloudEvent {
    return {
      specversion: '1.0',
      id: `load-${this.runId}-${++this.events}`,
      source,
      type,
      time: new Date(shopper.lastTime).toISOString(),
      subject: shopper.customerId,
      data,
    };
  }
}
