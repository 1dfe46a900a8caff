import type { CloudEvent } from '../ledger/types.js';
import { CatalogTraffic } from './catalogTraffic.js';
import { retailEventTypes, type OrderLine } from './catalogue.js';
import { Random } from './random.js';
import { draft, sources, type Draft } from './trafficDraft.js';
import { firstNames, lastNames, stores, type Store } from './trafficVocabulary.js';

export interface GeneratorOptions {
  /** Any safe non-negative integer: the same seed gives byte-identical events. */
  seed: number;
  events: number;
}

/**
 * Realistic Hello Retail traffic as CloudEvents, one at a time: a growing catalog, customers
 * browsing Zipf-popular products in interleaved sessions, carts, orders (some assisted by
 * salespeople in stores, the sale sometimes reported before the order), re-sent orders,
 * and late, out-of-order times. Deterministic and prefix-stable: the first n events of a
 * seed do not depend on how many are asked for. Memory grows with entities, not events.
 */
export function* generateEvents({ seed, events }: GeneratorOptions): Iterable<CloudEvent> {
  const traffic = new RetailTraffic(seed);
  for (let n = 0; n < events; n++) yield traffic.next();
}

/** 2024-03-01T08:00:00Z: the first event's time. */
const startTime = Date.UTC(2024, 2, 1, 8);

interface Session {
  readonly customerId: string;
  readonly source: string;
  readonly cart: Map<string, number>;
  lastViewed: string | undefined;
}

interface Salesperson {
  readonly salespersonId: string;
  readonly name: string;
  store: Store;
}

class RetailTraffic {
  private readonly random: Random;
  private readonly times = new TimeFormatter();
  private readonly catalog: CatalogTraffic;
  private readonly customers: string[] = [];
  private readonly sessions: Session[] = [];
  private readonly salespeople: Salesperson[] = [];
  /** Events due at a later step (sales reported late, carts cleared after an order), by due step. */
  private readonly pending: { due: number; draft: Draft }[] = [];
  private step = 0;
  private clock = startTime;
  private orders = 0;

  constructor(seed: number) {
    this.random = new Random(seed);
    this.catalog = new CatalogTraffic(this.random, (d, delay) => this.schedule(d, delay));
  }

  next(): CloudEvent {
    this.step++;
    const due = this.pending[0];
    const next = due && due.due <= this.step ? this.pending.shift()!.draft : this.act();
    return this.envelope(next);
  }

  private act(): Draft {
    const { random, catalog } = this;
    // Bootstrap: a catalog and a sales floor before the shoppers come.
    if (catalog.size === 0 || (catalog.size < 20 && random.chance(0.6))) return catalog.create();
    if (this.salespeople.length < 8 && random.chance(0.1)) return this.registerSalesperson();
    switch (random.weighted([86, 2.5, 2.5, 2.5, 1.2, 0.5, 0.3, 0.04])) {
      case 0: return this.customerActivity();
      case 1: return catalog.create();
      case 2: return catalog.changePrice();
      case 3: return catalog.addImage();
      case 4: return catalog.changeAttributes();
      case 5: return catalog.changeCategory();
      case 6: return catalog.discontinue();
      default: return this.registerSalesperson();
    }
  }

  private customerActivity(): Draft {
    const { random, sessions } = this;
    if (sessions.length < 8 || (sessions.length < 300 && random.chance(0.1))) return this.startSession();
    const index = random.int(sessions.length);
    const session = sessions[index]!;
    const hasCart = session.cart.size > 0;
    const action = random.weighted([55, 20, hasCart ? 5 : 0, hasCart ? 8 : 0]);
    const result = [this.view, this.addToCart, this.removeFromCart, this.checkout][action]!.call(this, session);
    if (random.chance(action === 3 ? 0.7 : 0.06)) {
      // The session ends; an abandoned cart stays as it is.
      sessions[index] = sessions[sessions.length - 1]!;
      sessions.pop();
    }
    return result;
  }

  private startSession(): Draft {
    const { random, customers } = this;
    const source = random.chance(0.3) ? sources.app : sources.web;
    const returning = customers.length > 0 && random.chance(0.7);
    // Returning customers are Zipf-loyal: the early ones come back most.
    const customerId = returning ? customers[random.zipf(customers.length)]! : `c-${customers.length + 1}`;
    const session: Session = { customerId, source, cart: new Map(), lastViewed: undefined };
    this.sessions.push(session);
    if (returning) return this.view(session);
    customers.push(customerId);
    return draft('retail.customer.registered', source, { customerId, name: this.personName() });
  }

  private view(session: Session): Draft {
    const sku = this.catalog.pickSku();
    session.lastViewed = sku;
    return draft('retail.customer.product-viewed', session.source, { customerId: session.customerId, sku });
  }

  private addToCart(session: Session): Draft {
    const { random } = this;
    const sku = session.lastViewed !== undefined && random.chance(0.7) ? session.lastViewed : this.catalog.pickSku();
    const quantity = random.weighted([70, 20, 10]) + 1;
    session.cart.set(sku, (session.cart.get(sku) ?? 0) + quantity);
    return draft('retail.cart.item-added', session.source, { customerId: session.customerId, sku, quantity });
  }

  private removeFromCart(session: Session): Draft {
    const { random } = this;
    const sku = random.pick([...session.cart.keys()]);
    const inCart = session.cart.get(sku)!;
    // Now and then a stale page removes more than the cart holds.
    const quantity = random.chance(0.03) ? inCart + 1 : random.between(1, Math.min(inCart, 3));
    if (quantity >= inCart) session.cart.delete(sku);
    else session.cart.set(sku, inCart - quantity);
    return draft('retail.cart.item-removed', session.source, { customerId: session.customerId, sku, quantity });
  }

  private checkout(session: Session): Draft {
    const { random } = this;
    const { customerId } = session;
    const lines: OrderLine[] = [...session.cart].map(([sku, quantity]) => ({ sku, quantity }));
    session.cart.clear();
    const orderId = `o-${++this.orders}`;
    const assistant = this.salespeople.length > 0 && random.chance(0.25) ? this.salespeople[random.zipf(this.salespeople.length)]! : undefined;
    const till = assistant && { source: `${sources.pos}/${assistant.store.id}`, offset: assistant.store.offset };
    const order = draft('retail.order.placed', till ? till.source : session.source, { customerId, orderId, lines }, till?.offset);
    if (random.chance(0.01)) this.schedule(this.resentOrder(order.data), random.between(5, 300));
    if (!assistant || !till) {
      this.clearCart(customerId, lines, 1);
      return order;
    }
    const saleBy = (salespersonId: string): Draft =>
      draft('retail.salesperson.sale-assisted', till.source, { salespersonId, orderId }, till.offset);
    const sale = saleBy(assistant.salespersonId);
    // Now and then two salespeople claim the same order.
    if (random.chance(0.05)) this.schedule(saleBy(random.pick(this.salespeople).salespersonId), random.between(1, 80));
    if (random.chance(0.2)) {
      // The till reports the sale before the web shop reports the order.
      const delay = random.between(1, 30);
      this.schedule(order, delay);
      this.clearCart(customerId, lines, delay + 1);
      return sale;
    }
    this.schedule(sale, random.between(1, 50));
    this.clearCart(customerId, lines, 1);
    return order;
  }

  /** The same orderId sent again, sometimes amended: the later one defines the lines. */
  private resentOrder(data: { customerId: string; orderId: string; lines: OrderLine[] }): Draft {
    const [first, ...rest] = data.lines;
    const lines = first && this.random.chance(0.5) ? [{ sku: first.sku, quantity: first.quantity + 1 }, ...rest] : data.lines;
    return draft('retail.order.placed', sources.web, { ...data, lines });
  }

  /** The cart service empties the cart once an order is placed. */
  private clearCart(customerId: string, lines: readonly OrderLine[], delay: number): void {
    lines.forEach(({ sku, quantity }, i) => this.schedule(draft('retail.cart.item-removed', sources.cart, { customerId, sku, quantity }), delay + i));
  }

  private registerSalesperson(): Draft {
    const { random, salespeople } = this;
    if (salespeople.length >= 8 && random.chance(0.25)) {
      // A transfer: registered again, at another store.
      const moving = random.pick(salespeople);
      moving.store = random.pick(stores.filter((s) => s !== moving.store));
      return this.salespersonRegistered(moving);
    }
    const hired: Salesperson = { salespersonId: `sp-${salespeople.length + 1}`, name: this.personName(), store: random.pick(stores) };
    salespeople.push(hired);
    return this.salespersonRegistered(hired);
  }

  private salespersonRegistered({ salespersonId, name, store }: Salesperson): Draft {
    return draft('retail.salesperson.registered', sources.staff, { salespersonId, name, store: store.id });
  }

  private personName(): string {
    return `${this.random.pick(firstNames)} ${this.random.pick(lastNames)}`;
  }

  /** Keeps `pending` sorted by due step, first scheduled first among equals. */
  private schedule(next: Draft, delay: number): void {
    const due = this.step + delay;
    let at = this.pending.length;
    while (at > 0 && this.pending[at - 1]!.due > due) at--;
    this.pending.splice(at, 0, { due, draft: next });
  }

  private envelope(next: Draft): CloudEvent {
    const { random } = this;
    this.clock += random.int(121);
    // A few devices report late or run slow clocks: times up to 30 s in the past.
    const time = random.chance(0.005) ? this.clock - 1 - random.int(30_000) : this.clock;
    const data = next.data as Record<string, unknown>;
    const event: CloudEvent = {
      specversion: '1.0',
      id: `e-${this.step}`,
      source: next.source,
      type: next.type,
      time: this.times.format(time, next.offset),
      subject: data[retailEventTypes[next.type].keyField] as string,
      data,
    };
    if (next.source === sources.app) event.datacontenttype = 'application/json';
    else if (next.source === sources.web && random.chance(0.1)) event.traceparent = `00-${random.hex(32)}-${random.hex(16)}-01`;
    return event;
  }
}

const dayMs = 86_400_000;

/**
 * RFC 3339 with milliseconds in the local time of a UTC offset (minutes; 0 prints `Z`).
 * Date#toISOString took much of the generator's time: only the date part uses it, once a day.
 */
class TimeFormatter {
  private day = Number.NaN;
  private date = '';

  format(ms: number, offset: number): string {
    const local = ms + offset * 60_000;
    const day = Math.floor(local / dayMs);
    if (day !== this.day) {
      this.day = day;
      this.date = new Date(day * dayMs).toISOString().slice(0, 11);
    }
    const inDay = local - day * dayMs;
    const clock = `${pad(Math.floor(inDay / 3_600_000), 2)}:${pad(Math.floor(inDay / 60_000) % 60, 2)}:${pad(Math.floor(inDay / 1000) % 60, 2)}.${pad(inDay % 1000, 3)}`;
    return `${this.date}${clock}${offset === 0 ? 'Z' : zone(offset)}`;
  }
}

function zone(offset: number): string {
  const minutes = Math.abs(offset);
  return `${offset < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
