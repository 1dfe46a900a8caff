import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { createApi, demoList, signIn } from './api.js';
import { CartPanel } from './cart.js';
import { CatalogPage, CategoryNav } from './catalog.js';
import { Header } from './header.js';
import { useLiveView, useLoaded, useRoute } from './hooks.js';
import { LiveConnection, socketUrl } from './live.js';
import { OfflinePanel, useOfflineCart } from './offline.js';
import { Leaderboard, RecentlyViewed } from './panels.js';
import { ProductPage } from './product.js';
import { ShopContext } from './shop.js';
import { StaffPage } from './staff.js';
import { html, Pending } from './ui.js';
import { useCartWrites } from './writes.js';

// Used when the server offers no /v1/demo lists: the demo generator's categories and stores.
const fallbackCategories = ['cosmetics', 'apparel', 'shoes', 'accessories', 'fragrance', 'home'];
const fallbackStores = ['seattle-downtown', 'bellevue-square', 'portland-pioneer', 'chicago-michigan-ave', 'new-york-57th'];

// Per tab, so two tabs can shop as different customers.
const sessionKey = 'foldline.session';
function savedSession() {
  try {
    return JSON.parse(sessionStorage.getItem(sessionKey) ?? 'null');
  } catch {
    return null;
  }
}

/** `{customerId, token}` of the signed-in customer, null when signed out. */
function useSession() {
  const [session, setSession] = useState(savedSession);
  const [signingIn, setSigningIn] = useState(false);
  const [error, setError] = useState(null);
  const keep = (next) => {
    if (next) sessionStorage.setItem(sessionKey, JSON.stringify(next));
    else sessionStorage.removeItem(sessionKey);
    setSession(next);
  };
  const choose = async (customerId) => {
    setSigningIn(true);
    setError(null);
    try {
      keep(await signIn(customerId));
    } catch (failure) {
      setError(`Sign-in failed: ${failure.message}`);
    } finally {
      setSigningIn(false);
    }
  };
  return { session, signingIn, error, choose, signOut: () => keep(null) };
}

/** One socket per token: signing in as someone else reconnects with their credentials. */
function useLive(token) {
  const [live, setLive] = useState(null);
  const [status, setStatus] = useState({ state: 'connecting' });
  useEffect(() => {
    const connection = new LiveConnection(socketUrl('/v1/live', token), setStatus);
    setLive(connection);
    return () => connection.close();
  }, [token]);
  return { live, status };
}

function Shop({ customerId, token, api, live, liveStatus, account, categories, stores, route }) {
  const cart = useLiveView(live, 'cart', customerId);
  const offlineCart = useOfflineCart(api, customerId, token);
  const onlineWrites = useCartWrites(api, customerId, cart?.token);
  // One path per edit: the cart document while offline (it syncs later), the ledger over HTTP otherwise.
  const writes = offlineCart.offline ? offlineCart.writes : onlineWrites;
  const shop = { customerId, api, live, cart, writes, offlineCart };
  const category = route.page === 'category' ? route.param : categories[0];
  return html`
    <${ShopContext.Provider} value=${shop}>
      <${Header}
        customerId=${customerId}
        signingIn=${account.signingIn}
        signInError=${account.error}
        onSignIn=${account.choose}
        onSignOut=${account.signOut}
        liveStatus=${liveStatus}
        itemCount=${cart?.value?.itemCount}
      />
      <${CategoryNav} categories=${categories} current=${route.page === 'product' ? null : category} />
      <div class="layout">
        <main>${route.page === 'product' ? html`<${ProductPage} sku=${route.param} />` : html`<${CatalogPage} category=${category} />`}</main>
        <aside class="sidebar">
          <${OfflinePanel} />
          <${CartPanel} />
          <${RecentlyViewed} />
          <${Leaderboard} stores=${stores} />
        </aside>
      </div>
    <//>
  `;
}

function App() {
  const account = useSession();
  const token = account.session?.token ?? null;
  const customerId = account.session?.customerId ?? null;
  const { live, status } = useLive(token);
  const api = useMemo(() => createApi(token), [token]);
  const lists = useLoaded(() => Promise.all([demoList('categories', fallbackCategories), demoList('stores', fallbackStores)]), []);
  const route = useRoute();
  if (route.page === 'staff') return html`<${StaffPage} view=${route.view} entityKey=${route.key} />`;
  if (!lists?.data) return html`<${Pending} state=${lists} what="the store" />`;
  const [categories, stores] = lists.data;
  // Keyed by customer: pending writes and live panels never leak from one customer to the next.
  return html`<${Shop} key=${customerId ?? ''} customerId=${customerId} token=${token} api=${api} live=${live} liveStatus=${status} account=${account} categories=${categories} stores=${stores} route=${route} />`;
}

render(html`<${App} />`, document.getElementById('app'));
