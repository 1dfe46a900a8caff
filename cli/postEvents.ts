import { mergeTokens } from '../ledger/token.js';

export interface PostOptions {
  /** Events per request. */
  batchSize?: number;
  /** Requests in flight at once. */
  inFlight?: number;
  /** Bearer token, when the server requires auth. */
  authorization?: string;
  /** Called after each acknowledged batch with the running count. */
  onProgress?: (posted: number) => void;
}

export interface PostSummary {
  posted: number;
  duplicates: number;
  /** Covers every acknowledged append. */
  token: string;
}

/** Posts events to a foldline server as CloudEvents batches; any refused batch throws. */
export async function postEvents(baseUrl: string, events: AsyncIterable<unknown> | Iterable<unknown>, options: PostOptions = {}): Promise<PostSummary> {
  const batchSize = options.batchSize ?? 1000;
  const inFlight = new Set<Promise<void>>();
  const tokens: string[] = [];
  let posted = 0;
  let duplicates = 0;
  let failure: unknown;

  const send = async (batch: unknown[]): Promise<void> => {
    const response = await fetch(new URL('/v1/events', baseUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents-batch+json',
        ...(options.authorization ? { authorization: `Bearer ${options.authorization}` } : {}),
      },
      body: JSON.stringify(batch),
    });
    const answer = (await response.json()) as { token?: string; receipts?: Array<{ duplicate: boolean }>; error?: { code: string; message: string } };
    if (response.status !== 202) throw new Error(`server refused a batch (${response.status}): ${answer.error?.code}: ${answer.error?.message}`);
    tokens.push(answer.token!);
    posted += batch.length;
    duplicates += answer.receipts!.filter((r) => r.duplicate).length;
    options.onProgress?.(posted);
  };
  const enqueue = async (batch: unknown[]): Promise<void> => {
    const request: Promise<void> = send(batch).then(
      () => void inFlight.delete(request),
      (error: unknown) => {
        inFlight.delete(request);
        failure ??= error;
      },
    );
    inFlight.add(request);
    if (inFlight.size >= (options.inFlight ?? 4)) await Promise.race(inFlight);
    if (failure) throw failure;
  };

  let batch: unknown[] = [];
  for await (const event of events) {
    batch.push(event);
    if (batch.length >= batchSize) {
      await enqueue(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await enqueue(batch);
  await Promise.all(inFlight);
  if (failure) throw failure;
  return { posted, duplicates, token: tokens.length > 0 ? mergeTokens(...tokens) : mergeTokens() };
}
