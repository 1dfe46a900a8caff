import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { PushClients } from './clientProcess.js';

export interface PushFigures {
  /** Frames the clients received per second of their window. */
  pushesPerSecond: number;
  /** Bytes per frame received, on average. */
  frameBytes: number;
  /** CPU time of the server process per push delivered (µs): user + system, all its threads. */
  serverCpuMicrosPerPush: number;
  /** Server CPU use over the window (1 = one core). */
  serverCores: number;
  /** Client process CPU use over the window: near 1, the clients were the limit. */
  clientCores: number;
  /** Rounds of changes made (each changes every key once). */
  rounds: number;
}

/**
 * Changes every key's value once per round, a round per event-loop turn (so sockets are served
 * between rounds), for `seconds`, and counts what the clients received meanwhile.
 */
export async function measurePushes(clients: PushClients, keys: readonly string[], publish: (key: string, round: number) => void, seconds: number): Promise<PushFigures> {
  clients.start();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const until = started + seconds * 1000;
  let round = 0;
  while (performance.now() < until) {
    round++;
    for (const key of keys) publish(key, round);
    await nextTurn();
  }
  const counts = await clients.stop();
  const used = process.cpuUsage(cpu);
  const serverMicros = used.user + used.system;
  return {
    pushesPerSecond: Math.round(counts.frames / counts.seconds),
    frameBytes: Math.round(counts.bytes / Math.max(1, counts.frames)),
    serverCpuMicrosPerPush: Math.round((serverMicros / Math.max(1, counts.frames)) * 100) / 100,
    serverCores: Math.round((serverMicros / 1000 / (performance.now() - started)) * 100) / 100,
    clientCores: Math.round(counts.cores * 100) / 100,
    rounds: round,
  };
}
