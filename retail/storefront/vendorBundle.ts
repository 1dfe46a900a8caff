import { build, stop } from 'esbuild';
import { fileURLToPath } from 'node:url';

const bundles = new Map<string, Promise<Buffer>>();

/**
 * One browser ES module holding `entry` and every package it imports, built by esbuild from
 * node_modules (so `npm ci` is all it needs; nothing built is checked in). Built once per
 * process and entry: every service of a process serves the same bytes.
 */
export function vendorBundle(entry: URL): Promise<Buffer> {
  let bundle = bundles.get(entry.href);
  if (!bundle) {
    bundle = bundleOnce(fileURLToPath(entry));
    bundles.set(entry.href, bundle);
    // A failed build is not remembered: the next service start tries again.
    bundle.catch(() => bundles.delete(entry.href));
  }
  return bundle;
}

async function bundleOnce(entryPoint: string): Promise<Buffer> {
  try {
    const { outputFiles } = await build({
      entryPoints: [entryPoint],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      // Top-level await (the entry waits for its wasm) needs an ES2022 browser.
      target: 'es2022',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
    return Buffer.from(outputFiles[0]!.contents);
  } finally {
    // esbuild keeps a child process for further builds; the service makes none.
    await stop();
  }
}
