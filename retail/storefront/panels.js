import { useContext, useState } from 'preact/hooks';
import { productHref, useLiveView } from './hooks.js';
import { labelOf, ShopContext } from './shop.js';
import { formatPrice, formatTime, html, Pending } from './ui.js';

/** The live `recently-viewed/{customerId}`. */
export function RecentlyViewed() {
  const { live, customerId } = useContext(ShopContext);
  const state = useLiveView(live, 'recently-viewed', customerId);
  if (!customerId) return null;
  const items = state?.value?.items;
  return html`
    <section class="panel" data-testid="recently-viewed">
      <h2>Recently viewed</h2>
      ${!items
        ? html`<${Pending} state=${state} what="recently viewed" />`
        : items.length === 0
          ? html`<p class="muted empty">Products you open show up here.</p>`
          : html`<ol class="recent">
              ${items.map(
                (item) => html`
                  <li key=${item.sku} data-testid="recently-viewed-item" data-sku=${item.sku}>
                    <a href=${productHref(item.sku)}>${item.name ?? item.sku}</a>
                    <time datetime=${item.viewedAt}>${formatTime(item.viewedAt)}</time>
                  </li>
                `,
              )}
            </ol>`}
    </section>
  `;
}

const shownSalespeople = 8;

/** The live `leaderboard/{store}` for a store picked from `stores`. */
export function Leaderboard({ stores }) {
  const { live } = useContext(ShopContext);
  const [picked, setPicked] = useState(null);
  const store = picked ?? stores[0];
  const state = useLiveView(live, 'leaderboard', store);
  const salespeople = state?.value?.salespeople;
  return html`
    <section class="panel" data-testid="leaderboard">
      <header class="panel-head">
        <h2>Leaderboard</h2>
        <select data-testid="store-picker" aria-label="Store" value=${store} onChange=${(event) => setPicked(event.currentTarget.value)}>
          ${stores.map((id) => html`<option value=${id}>${labelOf(id)}</option>`)}
        </select>
      </header>
      ${state?.error?.code === 'forbidden'
        ? html`<p class="muted empty" data-testid="leaderboard-staff-only">Store staff see the leaderboard here.</p>`
        : !salespeople
        ? html`<${Pending} state=${state} what="the leaderboard" />`
        : salespeople.length === 0
          ? html`<p class="muted empty">No salespeople at this store yet.</p>`
          : html`<table class="leaderboard">
              <thead><tr><th>#</th><th>Salesperson</th><th class="num">Orders</th><th class="num">Units</th><th class="num">Revenue</th></tr></thead>
              <tbody>
                ${salespeople.slice(0, shownSalespeople).map(
                  (person, rank) => html`
                    <tr key=${person.salespersonId} data-testid="leaderboard-row" data-salesperson-id=${person.salespersonId}>
                      <td class="rank">${rank + 1}</td>
                      <td>${person.name}</td>
                      <td class="num">${person.orders}</td>
                      <td class="num">${person.units}</td>
                      <td class="num">${formatPrice(person.revenue)}</td>
                    </tr>
                  `,
                )}
              </tbody>
            </table>
            ${salespeople.length > shownSalespeople && html`<p class="muted more">and ${salespeople.length - shownSalespeople} more</p>`}`}
    </section>
  `;
}
