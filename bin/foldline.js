#!/usr/bin/env node
// Runs the TypeScript CLI directly through tsx: there is no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
