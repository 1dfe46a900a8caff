import { createContext } from 'preact';

/**
 * What every panel of one shopping session shares: `{customerId, api, live, cart, writes,
 * offlineCart}`. customerId is null while nobody is signed in; cart is the live
 * `{token, value}` of the customer's cart view; writes are the cart writes of the current
 * mode (useCartWrites online, offlineCart's document edits offline).
 */
export const ShopContext = createContext(null);

/** 'new-arrivals' → 'New arrivals', 'seattle-downtown' → 'Seattle downtown'. */
export function labelOf(slug) {
  const words = slug.replace(/[-_]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
