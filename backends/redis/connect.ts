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
  redis.on('error', () => {});
  try {
    await redis.connect();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new FoldlineError('backend_unreachable', `cannot reach Redis at ${url} (${flag}): ${(error as Error).message}`, { cause: error });
  }
}

/** Every key of a deployment shares the hash tag of its name, so that one script may touch them all on a cluster too. */
export function keyPrefix(name: string): string {
  return `{${name}}:`;
}
