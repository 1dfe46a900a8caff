import { Agent, request } from 'node:http';
import { FoldlineError } from '../base/errors.js';
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

/** One request's body: a CloudEvents batch as JSON text, and how many events it holds. */
export interface BatchBody {
  body: Buffer;
  events: number;
}

/** Posts events to a foldline server as CloudEvents batches; any refused batch throws. */
export function postEvents(baseUrl: string, events: AsyncIterable<unknown> | Iterable<unknown>, options: PostOptions = {}): Promise<PostSummary> {
  return postBatches(baseUrl, batchBodies(events, options.batchSize ?? 1000), options);
}

/** Groups events into request bodies of `batchSize` events. */
export async function* batchBodies(events: AsyncIterable<unknown> | Iterable<unknown>, batchSize: number): AsyncIterable<BatchBody> {
  const bodyOf = (batch: unknown[]): BatchBody => ({ body: Buffer.from(JSON.stringify(batch)), events: batch.length });
  let batch: unknown[] = [];
  for await (const event of events) {
    batch.push(event);
    if (batch.length >= batchSize) {
      yield bodyOf(batch);
      batch = [];
    }
  }
  if (batch.length > 0) yield bodyOf(batch);
}

/**
 * Posts prepared batch bodies, `inFlight` at a time over kept-alive connections (plain
 * node:http: a load generator should spend its CPU on requests, not on web streams).
 */
export async function postBatches(baseUrl: string, batches: AsyncIterable<BatchBody> | Iterable<BatchBody>, options: PostOptions = {}): Promise<PostSummary> {
  const limit = options.inFlight ?? 4;
  const agent = new Agent({ keepAlive: true, maxSockets: limit });
  const url = new URL('/v1/events', baseUrl);
  const headers = {
    'content-type': 'application/cloudevents-batch+json',
    ...(options.authorization ? { authorization: `Bearer ${options.authorization}` } : {}),
  };
  const inFlight = new Set<Promise<void>>();
  const tokens: string[] = [];
  let posted = 0;
  let duplicates = 0;
  let failure: unknown;

  const send = async ({ body, events }: BatchBody): Promise<void> => {
    const { status, text } = await post(url, agent, headers, body);
    const answer = JSON.parse(text) as { token?: string; receipts?: Array<{ duplicate: boolean }>; error?: { code: string; message: string } };
    if (status !== 202) throw new FoldlineError(answer.error?.code ?? 'refused', `the server refused a batch (${status} ${answer.error?.code}: ${answer.error?.message})`);
    tokens.push(answer.token!);
    posted += events;
    for (const receipt of answer.receipts!) if (receipt.duplicate) duplicates++;
    options.onProgress?.(posted);
  };

  try {
    for await (const batch of batches) {
      const sending: Promise<void> = send(batch).then(
        () => void inFlight.delete(sending),
        (error: unknown) => {
          inFlight.delete(sending);
          failure ??= error;
        },
      );
      inFlight.add(sending);
      if (inFlight.size >= limit) await Promise.race(inFlight);
      if (failure) throw failure;
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
  } finally {
    agent.destroy();
  }
  return { posted, duplicates, token: mergeTokens(...tokens) };
}

function post(url: URL, agent: Agent, headers: Record<string, string>, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}
