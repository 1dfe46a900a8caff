import { html } from './ui.js';

export const demoCustomers = ['c-1', 'c-2', 'c-3'];

function liveLabel(status) {
  if (status.state === 'open') return 'Live';
  if (status.state === 'retrying') return `Reconnecting${status.retryInMs >= 1000 ? ` in ${Math.round(status.retryInMs / 1000)} s` : '…'}`;
  return 'Connecting…';
}

// Not a hash link: the hash holds the route.
const showCart = () => document.getElementById('cart')?.scrollIntoView({ behavior: 'smooth', block: 'center' });

export function Header({ customerId, signingIn, signInError, onSignIn, onSignOut, liveStatus, itemCount }) {
  return html`
    <header class="topbar">
      <a class="logo" href="#/" data-testid="home-link"><span class="logo-mark" aria-hidden="true"></span>Foldline Market</a>
      <span class=${`live-status ${liveStatus.state}`} data-testid="live-status" data-state=${liveStatus.state}>${liveLabel(liveStatus)}</span>
      <div class="sign-in" role="group" aria-label="Demo sign-in">
        <span class="muted">Shop as</span>
        ${demoCustomers.map(
          (id) => html`
            <button type="button" class=${id === customerId ? 'chip active' : 'chip'} aria-pressed=${id === customerId} disabled=${signingIn} data-testid="sign-in-choice" data-customer-id=${id} onClick=${() => onSignIn(id)}>
              ${id}
            </button>
          `,
        )}
        ${customerId && html`<button type="button" class="link-button" data-testid="sign-out" onClick=${onSignOut}>Sign out</button>`}
        ${signInError && html`<span class="error" data-testid="sign-in-error">${signInError}</span>`}
      </div>
      <button type="button" class="cart-badge" aria-label="Show cart" onClick=${showCart}>
        <span aria-hidden="true">Cart</span>
        <span class="count" data-testid="cart-count">${itemCount ?? 0}</span>
      </button>
    </header>
  `;
}
