/** How deliveries are retried: attempts, and the delays between them. */
export interface RetryPolicy {
  /** Attempts of one delivery before it becomes a dead letter (at least 1). */
  attempts: number;
  /** The delay before the second attempt, ms; it doubles with each further one. */
  baseDelayMs: number;
  /** No delay grows past this, ms. */
  maxDelayMs: number;
}

/**
 * The wait before retry number `retry` (1 for the second attempt): exponential, with "equal
 * jitter" (half fixed, half random) so that many subscribers failing at once do not retry in
 * lockstep, yet none retries at once.
 */
export function retryDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}
