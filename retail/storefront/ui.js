import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** Money in the views is integer cents; null (an unpriced product) shows as a dash. */
export function formatPrice(cents) {
  return typeof cents === 'number' ? dollars.format(cents / 100) : '—';
}

const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', month: 'short', day: 'numeric' });

export function formatTime(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? '' : clock.format(date);
}

/** A stable hue per text, so a product keeps its placeholder colour everywhere. */
function hueOf(text) {
  let hash = 0x811c9dc5;
  for (const char of text) hash = Math.imul(hash ^ char.codePointAt(0), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d);
  return ((hash ^ (hash >>> 12)) >>> 0) % 360;
}

function initials(name) {
  const words = (name ?? '?').split(/\s+/).filter(Boolean);
  return words.slice(-2).map((word) => word[0]).join('').toUpperCase();
}

// Only same-origin and data: images are loaded: the page makes no external requests, and
// the demo catalog's image urls name an example host that does not exist.
const isLocalImage = (url) => typeof url === 'string' && ((url.startsWith('/') && !url.startsWith('//')) || url.startsWith('data:image/'));

/** The product's image, or a coloured placeholder with its initials. */
export function ProductImage({ url, name, seed, className = '' }) {
  if (isLocalImage(url)) return html`<img class=${`product-image ${className}`} src=${url} alt=${name ?? ''} loading="lazy" />`;
  return html`
    <div class=${`product-image placeholder ${className}`} style=${`--hue:${hueOf(seed ?? name ?? '')}`} role="img" aria-label=${name ?? 'product'} title=${url ?? ''}>
      <span>${initials(name)}</span>
    </div>
  `;
}

/** What a view subscription or fetch looks like while it has nothing to show. */
export function Pending({ state, what }) {
  if (state?.error) return html`<p class="notice error" data-testid="load-error">Could not load ${what}: ${state.error.message}</p>`;
  return html`<p class="notice muted">Loading ${what}…</p>`;
}
