import type { Domain } from '../../../service/domain.js';
import { libraryAccess, libraryProjections, libraryRoute, libraryStreams, shelfView, validateLibrary } from './model.js';

/** The lending library as a foldline domain (a module `foldline start --domain` can load). */
export const domain: Domain = {
  name: 'library',
  streams: libraryStreams,
  route: libraryRoute,
  topology: new URL('./topology.ts', import.meta.url).href,
  projections: libraryProjections,
  consumer: 'library-views',
  views: [shelfView],
  validate: validateLibrary,
  access: libraryAccess,
};
