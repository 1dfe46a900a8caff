import { useContext } from 'preact/hooks';
import { CartButton } from './cartButton.js';
import { productHref } from './hooks.js';
import { ShopContext } from './shop.js';
import { formatPrice, html, Pending } from './ui.js';

const lineStates = { pending: 'Saving…', confirmed: 'Saved ✓', waiting: 'Not synced yet' };

function CartLine({ line, state }) {
  return html`
    <li class="cart-line" data-testid="cart-line" data-sku=${line.sku} data-quantity=${line.quantity} data-state=${state}>
      <a class="line-name" href=${productHref(line.sku)}>${line.name ?? line.sku}</a>
      <div class="stepper">
        <${CartButton} kind="remove" sku=${line.sku} name=${line.name} compact />
        <span class="quantity">${line.quantity}</span>
        <${CartButton} kind="add" sku=${line.sku} name=${line.name} compact />
      </div>
      <span class="line-total">${formatPrice(line.lineTotal)}</span>
      <span class="line-state" data-testid="cart-line-state">${lineStates[state] ?? ''}</span>
    </li>
  `;
}

/** The live `cart/{customerId}`: pushes from any tab or device land here without reload. */
export function CartPanel() {
  const { customerId, cart, writes } = useContext(ShopContext);
  if (!customerId) {
    return html`<section class="panel cart-panel" data-testid="cart"><h2>Your cart</h2><p class="muted">Choose a demo customer at the top to start shopping.</p></section>`;
  }
  const value = cart?.value;
  const ghosts = value ? writes.pendingAdds.filter(({ sku }) => !value.lines.some((line) => line.sku === sku)) : [];
  return html`
    <section class="panel cart-panel" data-testid="cart" id="cart">
      <header class="panel-head">
        <h2>Your cart</h2>
        ${value && html`<span class="muted">${value.itemCount} ${value.itemCount === 1 ? 'item' : 'items'}</span>`}
      </header>
      ${!value
        ? html`<${Pending} state=${cart} what="your cart" />`
        : html`
            <ul class="cart-lines">
              ${value.lines.map((line) => html`<${CartLine} key=${line.sku} line=${line} state=${writes.stateOf(line.sku).state} />`)}
              ${ghosts.map(
                ({ sku, name, state = 'pending' }) => html`
                  <li key=${sku} class="cart-line ghost" data-testid="cart-line-pending" data-sku=${sku} data-state=${state}>
                    <span class="line-name">${name ?? sku}</span>
                    <span class="line-state">${state === 'waiting' ? 'Added offline, not synced yet' : 'Adding…'}</span>
                  </li>
                `,
              )}
            </ul>
            ${value.lines.length === 0 && ghosts.length === 0 && html`<p class="muted empty">Your cart is empty.</p>`}
            <footer class="cart-total">
              <span>Total</span>
              <strong data-testid="cart-total">${formatPrice(value.total)}</strong>
            </footer>
          `}
    </section>
  `;
}
