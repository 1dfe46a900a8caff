import { useContext } from 'preact/hooks';
import { ShopContext } from './shop.js';
import { html } from './ui.js';

const labels = {
  add: { idle: 'Add to cart', pending: 'Adding…', confirmed: 'Added ✓', failed: 'Failed — retry', waiting: 'Added offline' },
  remove: { idle: 'Remove one', pending: 'Removing…', confirmed: 'Removed ✓', failed: 'Failed — retry', waiting: 'Removed offline' },
};

/**
 * Add or remove one unit of `sku` (`name` labels the cart's placeholder line while it is pending). `data-state` carries the write's state (idle, pending,
 * confirmed, failed; waiting: made offline, not synced yet) for tests; the compact form is the cart line's +/− stepper.
 */
export function CartButton({ kind, sku, name, compact = false, disabled = false }) {
  const shop = useContext(ShopContext);
  const signedIn = Boolean(shop.customerId);
  const { state, error } = signedIn ? shop.writes.stateOf(sku, kind) : { state: 'idle' };
  const testId = compact ? (kind === 'add' ? 'cart-increment' : 'cart-decrement') : kind === 'add' ? 'add-to-cart' : 'remove-from-cart';
  const onClick = (event) => {
    event.preventDefault();
    shop.writes.write(kind, sku, name);
  };
  return html`
    <button
      type="button"
      class=${`cart-button ${kind} ${compact ? 'compact' : ''}`}
      data-testid=${testId}
      data-state=${state}
      data-sku=${sku}
      disabled=${!signedIn || disabled || shop.writes.unavailable}
      title=${signedIn ? (error ?? '') : 'Choose a demo customer to shop'}
      aria-label=${compact ? `${kind === 'add' ? 'Add' : 'Remove'} one` : undefined}
      onClick=${onClick}
    >
      ${compact ? (kind === 'add' ? '+' : '−') : labels[kind][state]}
    </button>
  `;
}
