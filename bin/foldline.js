#!/usr/bin/env -S node --initial-old-space-size=256 --no-allocation-site-pretenuring
// Runs the TypeScript CLI directly through tsx: there is no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
