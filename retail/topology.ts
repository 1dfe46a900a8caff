/** The retail folds as a fold worker's topology module (projections/foldWorkerProtocol.ts). */
export { retailProjections as projections } from './projections.js';
export { retailRouter as route } from './catalogue.js';
export { validateEvent as validate } from './validation.js';
