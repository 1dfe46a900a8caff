import { readdir, readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vendorBundle } from './vendorBundle.js';

/** One file of the storefront page, ready to be served as is. */
export interface StorefrontAsset {
  contentType: string;
  body: Buffer;
}

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/** The vendored ES modules, at the paths index.html's import map names. */
const vendorModules: Readonly<Record<string, string>> = {
  '/assets/vendor/preact.js': 'preact',
  '/assets/vendor/preact-hooks.js': 'preact/hooks',
  '/assets/vendor/htm.js': 'htm',
};

/**
 * Vendored modules esbuild bundles from an entry of ./vendor/ (packages that ship no single
 * browser module): each is self-contained, with no import left in it.
 */
export const bundledModules: Readonly<Record<string, string>> = {
  '/assets/vendor/automerge-repo.js': 'vendor/automerge-repo.js',
};

const pageDirectory = new URL('./', import.meta.url);

/**
 * The storefront page by URL path: index.html at `/`, every script and stylesheet of this
 * folder at `/assets/{name}`, and Preact and htm (their ESM builds, from node_modules) under
 * `/assets/vendor/`, with automerge-repo bundled there as the service starts. The page itself has
 * no build step and makes no request outside these paths.
 */
export async function storefrontAssets(): Promise<Map<string, StorefrontAsset>> {
  const sources = new Map<string, URL>([['/', new URL('index.html', pageDirectory)]]);
  for (const name of (await readdir(pageDirectory)).sort()) {
    if (name.endsWith('.js') || name.endsWith('.css')) sources.set(`/assets/${name}`, new URL(name, pageDirectory));
  }
  for (const [path, specifier] of Object.entries(vendorModules)) sources.set(path, new URL(import.meta.resolve(specifier)));
  const assets = new Map<string, StorefrontAsset>();
  for (const [path, url] of sources) {
    const file = fileURLToPath(url);
    assets.set(path, { contentType: contentTypes[extname(file)]!, body: await readFile(file) });
  }
  for (const [path, entry] of Object.entries(bundledModules)) assets.set(path, { contentType: contentTypes['.js']!, body: await vendorBundle(new URL(entry, pageDirectory)) });
  return assets;
}
