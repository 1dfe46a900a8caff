import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { publish, type BenchSuite } from './report.js';

/** `npm run bench -- <suite> [args]`: runs one suite of bench/suites/, or lists them. */
const suitesDir = fileURLToPath(new URL('./suites/', import.meta.url));
const available = (await readdir(suitesDir)).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
const [name, ...args] = process.argv.slice(2);

if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <suite> [args]\nsuites: ${available.join(', ') || '(none yet)'}`);
  process.exit(name ? 2 : 0);
}

const suite = (await import(`./suites/${name}.ts`)).default as BenchSuite;
await publish(await suite(args));
