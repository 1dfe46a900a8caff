import { retailProjections } from '../../retail/projections.js';

/*
 * The retail topology as it was before its product-views projection was added: a service
 * that ran it has a store whose checkpoint is past events that projection folds.
 */
export const projections = retailProjections.filter((definition) => definition.name !== 'productViews');
export { retailRouter as route } from '../../retail/catalogue.js';
export { validateEvent as validate } from '../../retail/validation.js';
