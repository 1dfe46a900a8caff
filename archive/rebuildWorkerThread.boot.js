// A worker thread does not inherit the main thread's tsx hooks: register them, then run the TypeScript.
import { register } from 'tsx/esm/api';

register();
await import('./rebuildWorkerThread.ts');
