import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startListening, startServer, type ListeningProcess } from '../../cli/serverProcess.js';
import { peerSystems, type PeerSystem } from '../peers/carts.js';
import type { PeerLoadOptions, PeerLoadReport } from '../peers/loadClient.js';
import type { CpuTimes } from '../processCpu.js';
import type { BenchReport, BenchRow } from '../report.js';

/*
 * foldline next to its peers, as someone choosing a live-state server would try them: 50
 * carts, a subscriber per cart, one writer; 2 s of warm-up, then 3,000 single adds paced at
 * 250/s and at 100/s. Latency: a writer's add → its cart's subscriber seeing it. Each server
 * runs in its own process, started fresh for each run; the clients of a run in another; runs
 * interleaved (each rate, then each system in turn).
 * - foldline: `foldline start` as users run it (its node flags, the embedded durable LMDB
 *   ledger and store); the retail cart view (a PN counter per sku); appends over WebSocket.
 * - Hocuspocus 3.4.4: a stock server, a Yjs document per cart with a Y.Map of sku → count.
 * - automerge-repo 2.5.6: a stock sync server on the WebSocket adapter, an Automerge
 *   document per cart with a Counter per sku.
 */
const carts = 50;
const defaultAdds = 3000;
const rates = [250, 100];
const warmupSeconds = 2;
const cpuRatioTarget = 1.5;

const peerScript = (name: string): string => fileURLToPath(new URL(`../peers/${name}.ts`, import.meta.url));
const loadScript = peerScript('loadClient');

/** The server of one run: fresh each run, so that no run inherits another's documents or garbage. */
async function startPeer(system: PeerSystem): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  let server: Pick<ListeningProcess, 'url' | 'child' | 'stop'>;
  if (system === 'foldline') server = await startServer();
  else server = await startListening(system, ['--import', 'tsx', peerScript(system === 'hocuspocus' ? 'hocuspocusServer' : 'automergeServer')]);
  return { url: server.url, pid: server.child.pid!, stop: () => server.stop() };
}

/** One run's load in its own process: the load client prints its report as JSON. */
function runLoad(options: PeerLoadOptions): Promise<PeerLoadReport> {
  const child = fork(loadScript, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as PeerLoadReport) : reject(new Error(`the ${options.system} load exited with ${code}`))));
  });
}

interface Run {
  system: PeerSystem;
  rate: number;
  /** The server's process id: its main thread has the same id. */
  pid: number;
  report: PeerLoadReport;
}

export default async function peers(args: string[]): Promise<BenchReport> {
  const rounds = Number(args[0] ?? 1);
  const adds = Number(args[1] ?? defaultAdds);
  const runs: Run[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const rate of rates) {
      for (const system of peerSystems) {
        process.stderr.write(`peers: round ${round + 1}/${rounds}, ${system} at ${rate}/s\n`);
        const server = await startPeer(system);
        try {
          const report = await runLoad({ system, url: server.url, serverPid: server.pid, carts, rate, adds, warmupSeconds, seed: round + 1 });
          runs.push({ system, rate, pid: server.pid, report });
        } finally {
          await server.stop();
        }
      }
    }
  }
  return { suite: 'peers', rows: runs.map((run) => row(run, adds)), notes: notes(runs, rounds, adds) };
}

function cpuMsPerChange({ report }: Run, adds: number): number {
  return ((report.server.cpu.user + report.server.cpu.system) / adds) * 1000;
}

function row(run: Run, adds: number): BenchRow {
  const { system, rate, report } = run;
  const l = report.latencyMs;
  const { user, system: sys } = report.server.cpu;
  return {
    server: system,
    'adds/s': rate,
    'p50 ms': l.p50,
    'p99 ms': l.p99,
    'max ms': l.max,
    seen: `${l.count}/${adds}`,
    failed: Object.values(report.failures).reduce((sum, n) => sum + n, 0),
    'server cpu ms/change': round3(cpuMsPerChange(run, adds)),
    'user/sys s': `${user.toFixed(2)}/${sys.toFixed(2)}`,
    'ms/change main/worker/other threads': byThread(run, adds),
    'server RSS MB': Math.round(report.server.rssBytes / 2 ** 20),
    'client cores': round3(report.clientCores),
  };
}

/** Server CPU per change of its main thread, of foldline's fold worker, and of every other thread. */
function byThread({ pid, report }: Run, adds: number): string {
  const ms = ({ user, system }: CpuTimes): number => ((user + system) / adds) * 1000;
  const main = ms(report.server.threads.find(({ tid }) => tid === pid) ?? { user: 0, system: 0 });
  const worker = report.server.named['fold-worker'];
  const other = ms(report.server.cpu) - main - (worker ? ms(worker) : 0);
  return [main.toFixed(2), worker ? ms(worker).toFixed(2) : '-', other.toFixed(2)].join('/');
}

/** The targets, judged within each round: foldline against the Hocuspocus run of the same rate and round. */
function notes(runs: Run[], rounds: number, adds: number): string[] {
  const judged: string[] = [];
  for (let round = 0; round < rounds; round++) {
    const ofRound = runs.slice(round * rates.length * peerSystems.length, (round + 1) * rates.length * peerSystems.length);
    for (const rate of rates) {
      const find = (system: PeerSystem): Run => ofRound.find((run) => run.system === system && run.rate === rate)!;
      const ours = find('foldline');
      const theirs = find('hocuspocus');
      const ratio = cpuMsPerChange(ours, adds) / cpuMsPerChange(theirs, adds);
      judged.push(`round ${round + 1}, ${rate}/s: foldline/Hocuspocus server CPU per change ${ratio.toFixed(2)} (target ≤ ${cpuRatioTarget}): ${ratio <= cpuRatioTarget ? 'met' : 'MISSED'}`);
      if (rate === 250) {
        const met = ours.report.latencyMs.p99 <= theirs.report.latencyMs.p99;
        judged.push(`round ${round + 1}, 250/s: foldline p99 ${ours.report.latencyMs.p99} ms, Hocuspocus ${theirs.report.latencyMs.p99} ms (target: foldline's ≤ Hocuspocus's): ${met ? 'met' : 'MISSED'}`);
      }
    }
  }
  return [
    ...judged,
    `${carts} carts, a subscriber per cart (each its own WebSocket), one writer; ${warmupSeconds} s of warm-up at the rate, then ${adds} single adds of 1 paced at ${rates.join(' and ')}/s over the carts in turn, the sku drawn from 50; latency: the add sent → its cart's subscriber seeing a value that holds it (same process, same clock)`,
    'foldline: foldline start (embedded durable LMDB ledger and store, each append fsync-ed before its receipt), the retail cart view, appends over a WebSocket; Hocuspocus 3.4.4: stock server, documents in memory, a Y.Map of sku → count per cart; automerge-repo 2.5.6: stock sync server (WebSocket adapter, documents in memory), a Counter per sku per cart',
    'each server in its own process started fresh for the run (the peers with node --import tsx, as foldline), the clients in another; server CPU: user + sys of every thread of the server process over the measured window (/proc), divided by the adds; by thread: the main thread (foldline: the serving thread), foldline\'s fold worker (from its foldline_thread_cpu_seconds metric) and every other thread (LMDB commits on libuv\'s pool, V8\'s compiler and collector threads); RSS at the window end',
  ];
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
