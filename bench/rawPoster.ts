import { connect, type Socket } from 'node:net';
import { mergeTokens } from '../ledger/token.js';

/*
 * The ingest bench's client, in the manner of wrk: HTTP/1.1 requests written whole from
 * prepared bytes on kept-alive sockets, one in flight per socket, and of each answer only the
 * status and the token read (no JSON parse of a thousand receipts). It shares the machine's
 * two cores with the server it measures, so it takes as little of them as it can; node:http
 * took about three times its CPU. It speaks to foldline's own gateway only: answers must carry
 * a content-length.
 */

export interface RawPostSummary {
  posted: number;
  /** Covers every acknowledged append. */
  token: string;
}

/** Posts CloudEvents batches (JSON text, with their event counts) to `POST /v1/events`, `sockets` at a time. */
export async function postRaw(baseUrl: string, bodies: ReadonlyArray<{ body: Buffer; events: number }>, sockets: number, onProgress?: (posted: number) => void): Promise<RawPostSummary> {
  const url = new URL('/v1/events', baseUrl);
  const requests = bodies.map(({ body, events }) => ({
    bytes: Buffer.concat([
      Buffer.from(`POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/cloudevents-batch+json\r\ncontent-length: ${body.length}\r\n\r\n`),
      body,
    ]),
    events,
  }));
  const tokens: string[] = [];
  let next = 0;
  let posted = 0;
  const run = async (): Promise<void> => {
    const socket = await open(url);
    try {
      const answers = answersOf(socket);
      while (next < requests.length) {
        const request = requests[next++]!;
        socket.write(request.bytes);
        const { status, body } = await answers.next();
        if (status !== 202) throw new Error(`server refused a batch (${status}): ${body.slice(0, 300)}`);
        tokens.push(tokenOf(body));
        posted += request.events;
        onProgress?.(posted);
      }
    } finally {
      socket.destroy();
    }
  };
  await Promise.all(Array.from({ length: Math.min(sockets, requests.length) }, run));
  return { posted, token: mergeTokens(...tokens) };
}

function open(url: URL): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => resolve(socket));
    socket.setNoDelay(true);
    socket.once('error', reject);
  });
}

/** The answers on a socket, one per `next()`, in order. */
function answersOf(socket: Socket): { next(): Promise<{ status: number; body: string }> } {
  let buffered: Buffer = Buffer.alloc(0);
  let waiting: { resolve: (answer: { status: number; body: string }) => void; reject: (error: Error) => void } | undefined;
  let failure: Error | undefined;
  const take = (): void => {
    if (!waiting) return;
    const headerEnd = buffered.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const head = buffered.toString('latin1', 0, headerEnd);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!length) return fail(new Error(`an answer without content-length: ${head.slice(0, 200)}`));
    const end = headerEnd + 4 + Number(length[1]);
    if (buffered.length < end) return;
    const answer = { status: Number(head.slice(9, 12)), body: buffered.toString('utf8', headerEnd + 4, end) };
    buffered = buffered.subarray(end);
    const { resolve } = waiting;
    waiting = undefined;
    resolve(answer);
  };
  const fail = (error: Error): void => {
    failure ??= error;
    waiting?.reject(failure);
    waiting = undefined;
  };
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    take();
  });
  socket.on('error', fail);
  socket.on('close', () => fail(new Error('the server closed the connection')));
  return {
    next() {
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        take();
      });
    },
  };
}

/** The `token` of a receipts answer: its last member, after the receipts. */
function tokenOf(body: string): string {
  const start = body.lastIndexOf('"token":"') + '"token":"'.length;
  const end = body.indexOf('"', start);
  if (start < '"token":"'.length || end < 0) throw new Error(`an answer without a token: ${body.slice(-200)}`);
  return body.slice(start, end);
}
