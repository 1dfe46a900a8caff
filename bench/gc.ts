import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Lets a benchmark start each timed phase on a collected heap without `node --expose-gc`.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** A full garbage collection, so that one phase's garbage is not billed to the next. */
export function collectGarbage(): void {
  gc();
}
