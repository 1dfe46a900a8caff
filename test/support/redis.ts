import { Redis } from 'ioredis';

/** The machine's redis-server (docs/operations.md; .ci/run starts one where it is missing). */
export const redisUrl = process.env['FOLDLINE_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';

let serial = 0;

/** A deployment name of this test process alone: its keys meet no other test's. */
export function uniqueName(label: string): string {
  return `test-${label}-${process.pid}-${++serial}`;
}

/** Deletes every key of a deployment name (keys are `{name}:…`, see backends/redis/connect.ts). */
export async function dropRedisKeys(name: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `{${name}}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
