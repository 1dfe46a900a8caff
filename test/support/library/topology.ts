/** The library's folds as a fold worker's topology module. */
export { libraryProjections as projections, libraryRoute as route } from './model.js';
