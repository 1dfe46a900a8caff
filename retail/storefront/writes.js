import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { customerEvent } from './events.js';
import { tokenReflects } from './tokens.js';

/*
 * Cart writes and their visible state. A write is `pending` from the click until both its
 * receipts have arrived AND the live cart has pushed a value whose token reflects them —
 * effect after cause: "confirmed" means the customer can see it in the cart, not merely
 * that the log took it. Settled writes linger briefly so the confirmation can be seen.
 */

const eventTypes = { add: 'retail.cart.item-added', remove: 'retail.cart.item-removed' };
const showMs = { confirmed: 3000, failed: 6000 };

function settle(writes, cartToken) {
  let changed = false;
  const settled = writes.map((write) => {
    if (write.state !== 'pending' || !write.receipts || !tokenReflects(cartToken, write.receipts)) return write;
    changed = true;
    return { ...write, state: 'confirmed', settledAt: Date.now() };
  });
  return changed ? settled : writes;
}

const expiresAt = (write) => write.settledAt + showMs[write.state];

/**
 * `write(kind, sku, name?)` appends `retail.cart.item-added` (kind 'add') or
 * `retail.cart.item-removed` ('remove') for one unit of `sku`; `stateOf(sku, kind?)` → `{state, error?}` with
 * state 'idle' | 'pending' | 'confirmed' | 'failed'.
 */
export function useCartWrites(api, customerId, cartToken) {
  const [writes, setWrites] = useState([]);
  const latestToken = useRef(cartToken);
  latestToken.current = cartToken;

  useEffect(() => setWrites((current) => settle(current, cartToken)), [cartToken]);

  useEffect(() => {
    const settled = writes.filter((write) => write.settledAt !== undefined);
    if (settled.length === 0) return undefined;
    const next = Math.min(...settled.map(expiresAt));
    const timer = setTimeout(() => setWrites((current) => current.filter((write) => write.settledAt === undefined || expiresAt(write) > Date.now())), Math.max(0, next - Date.now()));
    return () => clearTimeout(timer);
  }, [writes]);

  const write = useCallback(
    async (kind, sku, name) => {
      const event = customerEvent(eventTypes[kind], customerId, { sku, quantity: 1 });
      const update = (change) => setWrites((current) => current.map((entry) => (entry.id === event.id ? { ...entry, ...change } : entry)));
      setWrites((current) => [...current, { id: event.id, kind, sku, name, state: 'pending' }]);
      try {
        const { receipts } = await api.append([event]);
        // The live push may have come before the HTTP answer: settle against it at once.
        update({ receipts });
        setWrites((current) => settle(current, latestToken.current));
      } catch (error) {
        update({ state: 'failed', error: error.message, settledAt: Date.now() });
      }
    },
    [api, customerId],
  );

  const stateOf = (sku, kind) => {
    const mine = writes.filter((entry) => entry.sku === sku && (kind === undefined || entry.kind === kind));
    for (const state of ['pending', 'failed', 'confirmed']) {
      const found = mine.find((entry) => entry.state === state);
      if (found) return { state, error: found.error };
    }
    return { state: 'idle' };
  };

  /** `[{sku, name}]`, one per sku with an add still pending. */
  const pendingAdds = [...new Map(writes.filter((entry) => entry.kind === 'add' && entry.state === 'pending').map((entry) => [entry.sku, { sku: entry.sku, name: entry.name }])).values()];

  return { write, stateOf, pendingAdds };
}
