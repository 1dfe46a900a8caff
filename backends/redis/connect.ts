import { Redis } from 'ioredis';
import { FoldlineError } from '../../base/errors.js';

/**
 * A connection to Redis, open once this resolves: one that cannot be made is a
 * `backend_unreachable` naming the flag that gave the URL, not a reconnect loop behind a
 * service that looks started.
 */
export async function connectRedis(url: string, flag = '--redis-url'): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
  // Errors after start are reported by the commands that meet them; ioredis reconnects.
  // Before, the socket's error says why better than the connect's ("Connection is closed").
  let cause: unknown;
  redis.on('error', (error: unknown) => (cause ??= error));
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    cause ??= error;
    throw new FoldlineError('backend_unreachable', `cannot reach Redis at ${url} (${flag}): ${(cause as Error).message}`, { cause });
  }
}

/** Every key of a deployment shares the hash tag of its name, so that one script may touch them all on a cluster too. */
export function keyPrefix(name: string): string {
  return `{${name}}:`;
}
