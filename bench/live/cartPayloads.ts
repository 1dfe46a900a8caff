import type { CloudEvent } from '../../ledger/types.js';

/**
 * Cart values of the shape of the `cart` view (docs/retail.md), over real catalog products: three
 * lines, the first one's quantity moving with the round so every round is a new value.
 */
export function cartPayloads(catalog: readonly CloudEvent[]): (key: string, round: number) => unknown {
  const products = catalog.map((event) => event.data as { sku: string; name: string; price: number });
  return (key, round) => {
    const index = Number(key.slice(key.lastIndexOf('-') + 1));
    const lines = [0, 1, 2]
      .map((i) => products[(index + i * 7) % products.length]!)
      .sort((a, b) => (a.sku < b.sku ? -1 : 1))
      .map((product, i) => {
        const quantity = i === 0 ? 1 + (round % 9) : i;
        return { sku: product.sku, quantity, name: product.name, unitPrice: product.price, lineTotal: quantity * product.price };
      });
    return {
      customerId: key,
      lines,
      itemCount: lines.reduce((n, line) => n + line.quantity, 0),
      total: lines.reduce((n, line) => n + line.lineTotal, 0),
    };
  };
}
