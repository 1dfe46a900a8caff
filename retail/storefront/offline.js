import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { socketUrl } from './live.js';
import { OfflineCart, savedOffline } from './offlineCart.js';
import { ShopContext } from './shop.js';
import { html } from './ui.js';

const amounts = { add: 1, remove: -1 };
const unsynced = (edit) => edit.state !== 'synced';

/**
 * The customer's cart document in this browser and the offline switch:
 * `{status, offline, error?, edits, setOffline(offline), nameOf(sku), writes}`. `writes` has
 * the shape of useCartWrites' and edits the document; the page uses it while offline only, so
 * each edit takes one path to the ledger.
 */
export function useOfflineCart(api, customerId, token) {
  const [offlineCart, setOfflineCart] = useState(null);
  const [snapshot, setSnapshot] = useState(() => ({ status: 'loading', offline: savedOffline(), edits: [] }));
  // Names of the products edited here, for the lines of skus the cart view does not have yet.
  const names = useRef(new Map());
  useEffect(() => {
    if (!customerId) return undefined;
    const opened = new OfflineCart({ syncUrl: socketUrl('/v1/sync', token), onChange: setSnapshot });
    setOfflineCart(opened);
    void opened.open(customerId, async () => (await api.cartDocument(customerId)).url);
    return () => opened.close();
  }, [api, customerId, token]);

  const waiting = snapshot.edits.filter(unsynced);
  const writes = {
    unavailable: !offlineCart?.ready,
    write(kind, sku, name) {
      if (name) names.current.set(sku, name);
      void offlineCart?.edit(sku, amounts[kind]);
    },
    stateOf(sku, kind) {
      const mine = waiting.some((edit) => edit.sku === sku && (kind === undefined || Math.sign(edit.amount) === amounts[kind]));
      return { state: mine ? 'waiting' : 'idle' };
    },
    /** `[{sku, name, state}]`, one per sku with an add not synced yet. */
    pendingAdds: [...new Set(waiting.filter((edit) => edit.amount > 0).map((edit) => edit.sku))].map((sku) => ({ sku, name: names.current.get(sku), state: 'waiting' })),
  };
  return { ...snapshot, setOffline: (offline) => offlineCart?.setOffline(offline), nameOf: (sku) => names.current.get(sku), writes };
}

const statusTexts = {
  loading: 'Getting your cart ready for offline use…',
  unavailable: 'This store cannot keep your cart offline.',
  offline: 'Working offline: your edits stay on this device until you go back online.',
  connecting: 'Connecting to sync…',
  syncing: 'Syncing your edits…',
  synced: 'Every edit is synced.',
};
const editStates = { saving: 'Saving on this device…', pending: 'Not synced yet', synced: 'Synced ✓' };

/** The "Work offline" switch and this device's edits of the cart document, pending or synced. */
export function OfflinePanel() {
  const { customerId, cart, offlineCart } = useContext(ShopContext);
  if (!customerId) return null;
  const { status, offline, edits, setOffline, nameOf } = offlineCart;
  const nameIn = (sku) => cart?.value?.lines.find((line) => line.sku === sku)?.name ?? nameOf(sku) ?? sku;
  return html`
    <section class="panel offline-panel" data-testid="offline-cart" data-status=${status}>
      <header class="panel-head">
        <h2>Offline cart</h2>
        <label class="switch">
          <input type="checkbox" role="switch" data-testid="offline-switch" checked=${offline} disabled=${status === 'loading' || status === 'unavailable'} onChange=${(event) => setOffline(event.currentTarget.checked)} />
          Work offline
        </label>
      </header>
      <p class=${`sync-status ${status}`} data-testid="sync-status" data-state=${status}>${statusTexts[status]}</p>
      ${edits.length > 0 &&
      html`<ul class="offline-edits">
        ${edits.map(
          (edit) => html`
            <li key=${edit.hash} class="offline-edit" data-testid="offline-edit" data-hash=${edit.hash} data-sku=${edit.sku} data-amount=${edit.amount} data-state=${edit.state}>
              <span class="edit-amount">${edit.amount > 0 ? `+${edit.amount}` : `−${-edit.amount}`}</span>
              <span class="edit-name">${nameIn(edit.sku)}</span>
              <span class="edit-state">${editStates[edit.state]}</span>
            </li>
          `,
        )}
      </ul>`}
    </section>
  `;
}
