import type { Random } from './random.js';
import { draft, sources, type Draft } from './trafficDraft.js';
import {
  adjectives,
  brands,
  categoryTemplates,
  categoryWeights,
  descriptionFeatures,
  extraCategories,
  seasons,
  type CategoryTemplate,
} from './trafficVocabulary.js';

interface Product {
  readonly sku: string;
  readonly template: CategoryTemplate;
  category: string;
  price: number;
  /** Names of the attributes it currently has. */
  readonly attributes: Set<string>;
  images: number;
}

const allCategories = [...categoryTemplates.map((t) => t.category), ...extraCategories];

/** The merchandising side of the generator: the product stream and which products shoppers pick. */
export class CatalogTraffic {
  private readonly products: Product[] = [];
  /** Product indexes, most popular first. */
  private readonly popularity: number[] = [];
  private readonly discontinued = new Set<number>();

  constructor(
    private readonly random: Random,
    private readonly schedule: (next: Draft, delay: number) => void,
  ) {}

  get size(): number {
    return this.products.length;
  }

  /** A Zipf-popular sku; rarely one not created yet (the feed is late), rarely a discontinued one. */
  pickSku(): string {
    if (this.random.chance(0.003)) return skuOf(this.products.length);
    let index = this.popularity[this.random.zipf(this.popularity.length)]!;
    if (this.discontinued.has(index) && this.random.chance(0.9)) index = this.popularity[this.random.zipf(this.popularity.length)]!;
    return this.products[index]!.sku;
  }

  create(): Draft {
    const { random } = this;
    const template = categoryTemplates[random.weighted(categoryWeights)]!;
    const index = this.products.length;
    const product: Product = { sku: skuOf(index), template, category: template.category, price: this.newPrice(template), attributes: new Set(), images: 0 };
    this.products.push(product);
    // A new product lands at a random popularity rank; the one there moves to the tail.
    const rank = random.int(this.popularity.length + 1);
    this.popularity.push(this.popularity[rank] ?? index);
    this.popularity[rank] = index;

    const attributes: Record<string, string> = {};
    if (random.chance(template.shaded)) attributes.shade = random.pick(template.shades);
    for (const [name, values] of Object.entries(template.attributes)) {
      if (random.chance(0.6)) attributes[name] = random.pick(values);
    }
    for (const name of Object.keys(attributes)) product.attributes.add(name);
    const created = this.createdDraft(product, attributes);
    for (let i = random.weighted([30, 50, 20]); i > 0; i--) this.schedule(this.imageDraft(product), random.between(1, 40));
    // Now and then the product feed publishes the product again, amended.
    if (random.chance(0.01)) this.schedule(this.createdDraft(product, { ...attributes }), random.between(10, 500));
    return created;
  }

  changePrice(): Draft {
    const product = this.popular();
    const dollars = Math.max(1, Math.round((product.price / 100) * (0.7 + 0.6 * this.random.next())));
    product.price = dollars * 100 - 1;
    return draft('retail.product.price-changed', sources.catalog, { sku: product.sku, price: product.price });
  }

  changeCategory(): Draft {
    const product = this.any();
    product.category = this.random.pick(allCategories.filter((c) => c !== product.category));
    return draft('retail.product.category-changed', sources.catalog, { sku: product.sku, category: product.category });
  }

  changeAttributes(): Draft {
    const { random } = this;
    const product = this.any();
    const { template } = product;
    const attributes: Record<string, string | null> = {};
    if (template.shades.length > 0 && random.chance(0.6)) attributes.shade = random.pick(template.shades);
    if (product.attributes.size > 0 && random.chance(0.3)) attributes[random.pick([...product.attributes])] = null;
    if (Object.keys(attributes).length === 0 || random.chance(0.2)) attributes.season = random.pick(seasons);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === null) product.attributes.delete(name);
      else product.attributes.add(name);
    }
    return draft('retail.product.attributes-changed', sources.catalog, { sku: product.sku, attributes });
  }

  addImage(): Draft {
    return this.imageDraft(this.popular());
  }

  discontinue(): Draft {
    const index = this.random.int(this.products.length);
    this.discontinued.add(index);
    return draft('retail.product.discontinued', sources.catalog, { sku: this.products[index]!.sku });
  }

  private createdDraft(product: Product, attributes: Record<string, string>): Draft {
    const { random } = this;
    const { sku, template } = product;
    const name = `${random.pick(adjectives)} ${random.pick(template.nouns)}`;
    const brand = random.pick(brands);
    const description = random.chance(0.8) ? `${name} by ${brand}, ${random.pick(descriptionFeatures)}.` : undefined;
    return draft('retail.product.created', sources.catalog, {
      sku,
      name,
      brand,
      category: product.category,
      ...(description === undefined ? {} : { description }),
      price: product.price,
      ...(Object.keys(attributes).length === 0 ? {} : { attributes }),
    });
  }

  private imageDraft(product: Product): Draft {
    const { random } = this;
    // Sometimes an image already added is added again.
    const image = product.images > 0 && random.chance(0.05) ? random.between(1, product.images) : ++product.images;
    const url = `https://images.hello-retail.example/${product.sku}/${image}.jpg`;
    const photographer = random.chance(0.6) ? { photographerId: `ph-${random.between(1, 15)}` } : {};
    return draft('retail.product.image-added', sources.catalog, { sku: product.sku, url, ...photographer });
  }

  private newPrice(template: CategoryTemplate): number {
    const { random } = this;
    if (random.chance(0.002)) return 0; // a free sample
    const dollars = random.between(template.dollars[0], template.dollars[1]);
    return random.chance(0.7) ? dollars * 100 - 1 : dollars * 100;
  }

  private popular(): Product {
    return this.products[this.popularity[this.random.zipf(this.popularity.length)]!]!;
  }

  private any(): Product {
    return this.products[this.random.int(this.products.length)]!;
  }
}

function skuOf(index: number): string {
  return `sku-${index + 1}`;
}
