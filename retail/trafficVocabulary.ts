/** The words the traffic generator builds its catalog, customers and stores from. */

export interface CategoryTemplate {
  readonly category: string;
  /** How often a new product falls in this category (relative). */
  readonly weight: number;
  readonly nouns: readonly string[];
  /** Whole dollars; the price in cents is drawn between them. */
  readonly dollars: readonly [number, number];
  /** Chance that a product carries a `shade` attribute. */
  readonly shaded: number;
  readonly shades: readonly string[];
  /** Other attributes: name → possible values. */
  readonly attributes: Readonly<Record<string, readonly string[]>>;
}

const lipShades = ['ruby', 'coral', 'nude', 'rose', 'plum', 'berry', 'mauve', 'peach', 'cherry', 'brick'];
const skinShades = ['ivory', 'porcelain', 'sand', 'honey', 'caramel', 'espresso', 'golden', 'almond'];
const fabricShades = ['navy', 'black', 'ivory', 'olive', 'burgundy', 'camel', 'heather grey', 'sky blue', 'forest', 'blush'];
const leatherShades = ['cognac', 'black', 'tan', 'oxblood', 'stone', 'chocolate'];

export const categoryTemplates: readonly CategoryTemplate[] = [
  {
    category: 'cosmetics',
    weight: 5,
    nouns: ['Lipstick', 'Lip Gloss', 'Eyeshadow Palette', 'Nail Polish', 'Blush', 'Foundation', 'Concealer', 'Bronzer'],
    dollars: [8, 65],
    shaded: 0.9,
    shades: [...lipShades, ...skinShades],
    attributes: { finish: ['matte', 'satin', 'gloss', 'shimmer', 'dewy'], size: ['mini', 'full size'] },
  },
  {
    category: 'apparel',
    weight: 6,
    nouns: ['Wrap Dress', 'Cashmere Sweater', 'Denim Jacket', 'Silk Blouse', 'Chino Trousers', 'Linen Shirt', 'Pleated Skirt', 'Hoodie', 'Trench Coat'],
    dollars: [25, 450],
    shaded: 0.85,
    shades: fabricShades,
    attributes: { size: ['XS', 'S', 'M', 'L', 'XL'], material: ['cotton', 'wool', 'silk', 'linen', 'cashmere', 'recycled polyester'], fit: ['slim', 'regular', 'relaxed'] },
  },
  {
    category: 'shoes',
    weight: 4,
    nouns: ['Sneaker', 'Chelsea Boot', 'Loafer', 'Ankle Boot', 'Sandal', 'Running Shoe', 'Ballet Flat'],
    dollars: [40, 380],
    shaded: 0.2,
    shades: leatherShades,
    attributes: { size: ['5', '6', '7', '8', '9', '10', '11', '12'], width: ['narrow', 'medium', 'wide'], color: ['black', 'white', 'brown', 'grey'] },
  },
  {
    category: 'accessories',
    weight: 3,
    nouns: ['Leather Tote', 'Crossbody Bag', 'Wool Scarf', 'Sunglasses', 'Belt', 'Watch', 'Wallet'],
    dollars: [15, 900],
    shaded: 0.5,
    shades: leatherShades,
    attributes: { material: ['leather', 'wool', 'acetate', 'stainless steel', 'canvas'] },
  },
  {
    category: 'fragrance',
    weight: 2,
    nouns: ['Eau de Parfum', 'Eau de Toilette', 'Body Mist', 'Perfume Oil'],
    dollars: [30, 250],
    shaded: 0,
    shades: [],
    attributes: { volume: ['10 ml', '30 ml', '50 ml', '100 ml'], notes: ['citrus', 'woody', 'floral', 'amber', 'fresh'] },
  },
  {
    category: 'home',
    weight: 2,
    nouns: ['Scented Candle', 'Throw Blanket', 'Ceramic Vase', 'Linen Napkins', 'Bath Towel Set'],
    dollars: [12, 200],
    shaded: 0.3,
    shades: fabricShades,
    attributes: { material: ['ceramic', 'cotton', 'linen', 'soy wax'] },
  },
];

export const categoryWeights = categoryTemplates.map((t) => t.weight);

/** Categories a product can be moved to, besides the template ones. */
export const extraCategories = ['sale', 'new-arrivals', 'gifts'];

export const adjectives = ['Velvet', 'Classic', 'Everyday', 'Signature', 'Luxe', 'Cloud', 'Heritage', 'Studio', 'Coastal', 'Midnight', 'Golden', 'Essential', 'Featherweight', 'Nordic'];

export const brands = ['Aurora', 'Nordvik', 'Halden & Co', 'Maison Lark', 'Sable', 'Juniper Row', 'Kestrel', 'Bellwether', 'Ostara', 'Pike Street', 'Rainier Supply', 'Lumen'];

export const descriptionFeatures = [
  'made to last season after season',
  'a customer favourite since it launched',
  'designed in Seattle',
  'responsibly sourced',
  'easy to care for',
  'lightweight and packable',
  'with a lifetime guarantee',
];

export const seasons = ['spring-2024', 'summer-2024', 'fall-2024', 'holiday-2024'];

export const firstNames = ['Ada', 'Ben', 'Chloe', 'Diego', 'Emma', 'Farah', 'Gus', 'Hana', 'Ivan', 'Jade', 'Kofi', 'Lena', 'Mateo', 'Nora', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sam', 'Tomás', 'Uma', 'Vera', 'Wei', 'Yusuf', 'Zoë'];

export const lastNames = ['Andersen', 'Brooks', 'Chen', 'Dubois', 'Eriksson', 'Garcia', 'Haddad', 'Ito', 'Johansson', 'Kowalski', 'Lopez', 'Müller', 'Nakamura', 'Okafor', 'Patel', 'Rossi', 'Silva', 'Tanaka', 'Walker', 'Young'];

export interface Store {
  readonly id: string;
  /** The store's UTC offset in minutes: its point-of-sale clocks print local time. */
  readonly offset: number;
}

export const stores: readonly Store[] = [
  { id: 'seattle-downtown', offset: -480 },
  { id: 'bellevue-square', offset: -480 },
  { id: 'portland-pioneer', offset: -480 },
  { id: 'chicago-michigan-ave', offset: -360 },
  { id: 'new-york-57th', offset: -300 },
];
