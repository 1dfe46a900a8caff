import { Option } from 'commander';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FoldlineError } from '../base/errors.js';
import type { Domain } from '../service/domain.js';

/** `--domain <module>`: the domain a command works with; Hello Retail unless named. */
export function domainOption(): Option {
  return new Option('--domain <module>', 'module exporting the domain as `domain` (default: the Hello Retail domain)').env('FOLDLINE_DOMAIN');
}

/** The domain a module path (relative to the working directory) or URL exports; Hello Retail without one. */
export async function loadDomain(module: string | undefined): Promise<Domain> {
  const url = module === undefined ? new URL('../retail/domain.ts', import.meta.url).href : /^[a-z]+:/.test(module) ? module : pathToFileURL(resolve(module)).href;
  let exports: Record<string, unknown>;
  try {
    exports = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new FoldlineError('bad_domain', `cannot load the domain module ${module}: ${(error as Error).message}`, { cause: error });
  }
  const domain = exports['domain'] as Partial<Domain> | undefined;
  if (typeof domain !== 'object' || domain === null || typeof domain.name !== 'string' || typeof domain.validate !== 'function') {
    throw new FoldlineError('bad_domain', `the module ${module} exports no domain (an object named \`domain\`; see docs/architecture.md)`);
  }
  return domain as Domain;
}
