import type { Domain } from '../service/domain.js';
import { retailAccess } from './access.js';
import { cartCountsView, cartDocument } from './cartDocument.js';
import { retailRouter, retailStreams } from './catalogue.js';
import { demoHistory, demoSignInRoute, storefrontListRoutes } from './demo.js';
import { generateEvents } from './generator.js';
import { retailProjections } from './projections.js';
import { storefrontAssets } from './storefront/assets.js';
import { validateBatch } from './validation.js';
import { retailViews } from './views.js';

/** Hello Retail as a foldline domain: three streams, the six views (and the cart documents' view), the storefront page. */
export const retailDomain: Domain = {
  name: 'retail',
  streams: retailStreams,
  route: retailRouter,
  topology: new URL('./topology.ts', import.meta.url).href,
  projections: retailProjections,
  consumer: 'retail-views',
  views: [...retailViews, cartCountsView],
  validate: validateBatch,
  access: retailAccess,
  assets: storefrontAssets,
  routes: storefrontListRoutes,
  documents: cartDocument,
  generate: generateEvents,
  demo: { history: demoHistory, routes: [demoSignInRoute] },
};

/** The name every domain module exports its domain under (`foldline start --domain MODULE`). */
export { retailDomain as domain };
