import { performance } from 'node:perf_hooks';
import { startServer } from '../../cli/serverProcess.js';
import { batchBodies, type BatchBody } from '../../client/postEvents.js';
import type { CloudEvent } from '../../ledger/types.js';
import { generateEvents } from '../../retail/generator.js';
import { processCpuSeconds } from '../processCpu.js';
import { postRaw } from '../rawPoster.js';
import type { BenchReport } from '../report.js';

/*
 * End-to-end ingest: generated events posted over HTTP to `foldline start` (a child
 * process, so the client does not share the server's thread) in batches of 1,000 with 4
 * requests in flight, timed until one read of each of the six views with the merged token
 * of every acknowledgement answers: by then every event is durable and folded.
 */
export default async function ingest(args: string[]): Promise<BenchReport> {
  const count = Number(args[0] ?? 200_000);
  const events: CloudEvent[] = [...generateEvents({ seed: 1, events: count })];
  const sample = (field: string): string => String(events.find((e) => typeof e.data[field] === 'string')!.data[field]);
  const reads: Array<[string, string]> = [
    ['cart', sample('customerId')],
    ['recently-viewed', sample('customerId')],
    ['product', sample('sku')],
    ['catalog', sample('category')],
    ['sales-by-shade', sample('category')],
    ['leaderboard', sample('store')],
  ];
  // Like any load generator's payloads, the request bodies are ready before the clock starts.
  const bodies: BatchBody[] = [];
  for await (const body of batchBodies(events, 1000)) bodies.push(body);
  const server = await startServer();
  try {
    const cpuBefore = processCpuSeconds(server.child.pid);
    const started = performance.now();
    const summary = await postRaw(server.url, bodies, 4, (posted) => {
      if (posted % 50_000 === 0) process.stderr.write(`ingest: ${posted}/${count} acknowledged\n`);
    });
    const acknowledged = performance.now();
    await Promise.all(
      reads.map(async ([view, key]) => {
        const url = new URL(`/v1/views/${view}/${encodeURIComponent(key)}`, server.url);
        url.searchParams.set('after', summary.token);
        url.searchParams.set('wait', '30000');
        const response = await fetch(url);
        if (response.status !== 200) throw new Error(`${url} → ${response.status} ${await response.text()}`);
      }),
    );
    const folded = performance.now();
    const cpuAfter = processCpuSeconds(server.child.pid);
    const serverCpu = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
    const seconds = (folded - started) / 1000;
    return {
      suite: 'ingest',
      rows: [
        { measure: 'appended (durable, acknowledged)', events: summary.posted, seconds: (acknowledged - started) / 1000, 'events/s': Math.round(summary.posted / ((acknowledged - started) / 1000)) },
        {
          measure: 'end to end (durable and folded, six views read with the token)',
          events: summary.posted,
          seconds,
          'events/s': Math.round(summary.posted / seconds),
          ...(serverCpu === undefined ? {} : { 'server cpu s': serverCpu, 'server cpu µs/event': Math.round((serverCpu / summary.posted) * 1e6 * 10) / 10 }),
        },
      ],
      notes: [
        `${count} events of foldline gen --seed 1, batches of 1,000 (request bodies serialized before timing), 4 requests in flight over kept-alive connections from a wrk-like client (prepared HTTP/1.1 bytes, only status and token read: bench/rawPoster.ts), server in a child process (foldline start, embedded LMDB ledger and store)`,
        'target: ≥ 50,000 events/s end to end',
        'server cpu: every thread of the server process from the first post to the last read (/proc); it varies less with the host than the wall time does',
      ],
    };
  } finally {
    await server.stop();
  }
}
