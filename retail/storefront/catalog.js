import { useContext } from 'preact/hooks';
import { CartButton } from './cartButton.js';
import { categoryHref, productHref, useLoaded } from './hooks.js';
import { labelOf, ShopContext } from './shop.js';
import { formatPrice, html, Pending, ProductImage } from './ui.js';

export function CategoryNav({ categories, current }) {
  return html`
    <nav class="categories" aria-label="Categories">
      ${categories.map(
        (category) => html`
          <a href=${categoryHref(category)} class=${category === current ? 'active' : ''} aria-current=${category === current ? 'page' : undefined} data-testid="category-link" data-category=${category}>
            ${labelOf(category)}
          </a>
        `,
      )}
    </nav>
  `;
}

function ProductCard({ product }) {
  const { sku, name, brand, price, image } = product;
  return html`
    <article class="product-card" data-testid="product-card" data-sku=${sku}>
      <a class="card-link" href=${productHref(sku)}>
        <${ProductImage} url=${image} name=${name} seed=${sku} />
        <div class="card-body">
          <p class="brand">${brand}</p>
          <h3 class="name">${name}</h3>
        </div>
      </a>
      <div class="card-footer">
        <span class="price">${formatPrice(price)}</span>
        <${CartButton} kind="add" sku=${sku} name=${name} />
      </div>
    </article>
  `;
}

/** `catalog/{category}`, read over HTTP when the category is opened. */
export function CatalogPage({ category }) {
  const { api } = useContext(ShopContext);
  const loaded = useLoaded(() => api.readView('catalog', category), [api, category]);
  const products = loaded?.data?.value?.products;
  return html`
    <section class="catalog" data-testid="catalog" data-category=${category}>
      <header class="section-head">
        <h1>${labelOf(category)}</h1>
        ${products && html`<span class="muted">${products.length} ${products.length === 1 ? 'product' : 'products'}</span>`}
      </header>
      ${!products
        ? html`<${Pending} state=${loaded} what="the catalog" />`
        : products.length === 0
          ? html`<p class="notice muted">Nothing in this category yet.</p>`
          : html`<div class="product-grid">${products.map((product) => html`<${ProductCard} key=${product.sku} product=${product} />`)}</div>`}
    </section>
  `;
}
