import { useContext, useEffect, useState } from 'preact/hooks';
import { CartButton } from './cartButton.js';
import { customerEvent } from './events.js';
import { categoryHref, useLiveView } from './hooks.js';
import { labelOf, ShopContext } from './shop.js';
import { formatPrice, html, Pending, ProductImage } from './ui.js';

// The first image's placeholder matches the catalog card's.
const imageSeed = (sku, index) => (index === 0 ? sku : `${sku}#${index}`);

function Gallery({ product }) {
  const [selected, setSelected] = useState(0);
  const images = product.images.length > 0 ? product.images : [null];
  const shown = Math.min(selected, images.length - 1);
  return html`
    <div class="gallery">
      <${ProductImage} url=${images[shown]} name=${product.name} seed=${imageSeed(product.sku, shown)} className="hero" />
      ${images.length > 1 &&
      html`<div class="thumbnails">
        ${images.map(
          (url, index) => html`
            <button type="button" class=${index === shown ? 'thumbnail selected' : 'thumbnail'} onClick=${() => setSelected(index)} aria-label=${`Image ${index + 1}`}>
              <${ProductImage} url=${url} name=${product.name} seed=${imageSeed(product.sku, index)} />
            </button>
          `,
        )}
      </div>`}
    </div>
  `;
}

/** Viewing the page is an event: it feeds recently-viewed and the product's view count. */
function useRecordView(sku) {
  const { api, customerId } = useContext(ShopContext);
  useEffect(() => {
    if (!customerId) return;
    api.append([customerEvent('retail.customer.product-viewed', customerId, { sku })]).catch((error) => console.warn('product-viewed not recorded', error));
  }, [api, customerId, sku]);
}

/** `product/{sku}`, live: views and units sold move while the page is open. */
export function ProductPage({ sku }) {
  const { live, cart, customerId } = useContext(ShopContext);
  const state = useLiveView(live, 'product', sku);
  useRecordView(sku);
  if (!state || state.error) return html`<${Pending} state=${state} what="the product" />`;
  const product = state.value;
  if (product === null) return html`<p class="notice" data-testid="product-missing">There is no product ${sku}.</p>`;
  const inCart = cart?.value?.lines.find((line) => line.sku === sku)?.quantity ?? 0;
  const attributes = Object.entries(product.attributes);
  return html`
    <article class="product-page" data-testid="product-page" data-sku=${sku}>
      <nav class="breadcrumb"><a href=${categoryHref(product.category)}>← ${labelOf(product.category)}</a></nav>
      <div class="product-layout">
        <${Gallery} product=${product} />
        <div class="product-info">
          <p class="brand">${product.brand}</p>
          <h1>${product.name}</h1>
          <p class="price large">${formatPrice(product.price)}</p>
          ${product.discontinued && html`<p class="badge warn">Discontinued</p>`}
          <div class="actions">
            <${CartButton} kind="add" sku=${sku} name=${product.name} disabled=${product.discontinued} />
            <${CartButton} kind="remove" sku=${sku} disabled=${inCart === 0} />
            ${customerId && html`<span class="muted" data-testid="in-cart">${inCart} in your cart</span>`}
          </div>
          <dl class="stats">
            <div><dt>Views</dt><dd data-testid="product-views">${product.views.toLocaleString()}</dd></div>
            <div><dt>Units sold</dt><dd data-testid="product-units-sold">${product.unitsSold.toLocaleString()}</dd></div>
          </dl>
          ${product.description && html`<p class="description">${product.description}</p>`}
          ${attributes.length > 0 &&
          html`<dl class="attributes">
            ${attributes.map(([name, value]) => html`<div><dt>${labelOf(name)}</dt><dd>${value}</dd></div>`)}
          </dl>`}
          <p class="sku muted">SKU ${sku}</p>
        </div>
      </div>
    </article>
  `;
}
