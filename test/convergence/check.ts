import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, type ServerProcess } from '../../cli/serverProcess.js';
import { postEvents } from '../../client/postEvents.js';
import { canonicalJson } from '../../crdt/index.js';
import type { CloudEvent } from '../../ledger/types.js';
import { Random } from '../../retail/random.js';
import { viewKeysOf } from '../retail/viewKeys.js';

/*
 * `npm run check:convergence`: the same generated history posted to two fresh servers, one
 * in generator order, one fully shuffled with 10% of the events sent twice; every view
 * key must read the same on both.
 */
const eventCount = Number(process.argv[2] ?? 100_000);
const bin = fileURLToPath(new URL('../../bin/foldline.js', import.meta.url));
const work = await mkdtemp(join(tmpdir(), 'foldline-convergence-'));
const log = (message: string): void => void process.stderr.write(`${message}\n`);

/** Seeded Fisher–Yates, so that a failing run can be repeated. */
function shuffled<T>(items: T[], seed: number): T[] {
  const random = new Random(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const servers: ServerProcess[] = [];
try {
  const file = join(work, 'events.ndjson');
  log(`generating ${eventCount} events (foldline gen --seed 1)`);
  const gen = spawnSync(process.execPath, [bin, 'gen', '--seed', '1', '--events', String(eventCount), '--out', file], { stdio: 'inherit' });
  if (gen.status !== 0) throw new Error('foldline gen failed');
  const events = (await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as CloudEvent);
  const duplicates = shuffled(events, 2).slice(0, Math.floor(events.length / 10));
  const disordered = shuffled([...events, ...duplicates], 3);

  servers.push(await startServer(), await startServer());
  const [inOrder, shuffledServer] = servers as [ServerProcess, ServerProcess];
  const progress = (name: string, total: number) => (posted: number) => {
    if (posted % 20_000 < 1000) log(`${name}: ${posted}/${total} posted`);
  };
  const [a, b] = await Promise.all([
    postEvents(inOrder.url, events, { onProgress: progress('in order', events.length) }),
    postEvents(shuffledServer.url, disordered, { onProgress: progress('shuffled', disordered.length) }),
  ]);
  log(`posted ${a.posted} in order and ${b.posted} shuffled (${b.duplicates} duplicates acknowledged as such)`);

  const keys = viewKeysOf(events);
  let differing = 0;
  let compared = 0;
  const read = async (server: ServerProcess, token: string, view: string, key: string): Promise<string> => {
    const url = new URL(`/v1/views/${encodeURIComponent(view)}/${encodeURIComponent(key)}`, server.url);
    url.searchParams.set('after', token);
    url.searchParams.set('wait', '120000');
    const response = await fetch(url);
    if (response.status !== 200) throw new Error(`GET ${url} → ${response.status} ${await response.text()}`);
    return canonicalJson(((await response.json()) as { value: unknown }).value);
  };
  for (let at = 0; at < keys.length; at += 50) {
    await Promise.all(
      keys.slice(at, at + 50).map(async ([view, key]) => {
        const [left, right] = await Promise.all([read(inOrder, a.token, view, key), read(shuffledServer, b.token, view, key)]);
        compared++;
        if (left !== right) {
          differing++;
          if (differing <= 5) log(`DIFFERENT ${view}/${key}\n  in order: ${left.slice(0, 300)}\n  shuffled: ${right.slice(0, 300)}`);
        }
      }),
    );
    if (at % 2000 === 0) log(`compared ${compared}/${keys.length} view keys`);
  }
  console.log(`${compared} view keys compared over ${events.length} events: ${differing === 0 ? 'all identical' : `${differing} differ`}`);
  process.exitCode = differing === 0 ? 0 : 1;
} finally {
  await Promise.all(servers.map((server) => server.stop()));
  await rm(work, { recursive: true, force: true });
}
