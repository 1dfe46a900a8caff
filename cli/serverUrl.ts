import { InvalidArgumentError } from 'commander';

/** A `--url` naming a running server: its origin, or commander's refusal. */
export function serverUrlOption(text: string): string {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
    return url.origin;
  } catch {
    throw new InvalidArgumentError('--url must be an http(s) URL');
  }
}
