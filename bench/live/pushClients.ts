import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

/*
 * Child process of the live bench: `count` WebSocket clients of `url`, client i subscribed to
 * `cart/c-{i}`. Frames are counted, not parsed, so the clients cost as little as they can and
 * the same for every server measured. Talks to the parent over IPC: "ready" once every client
 * has its first frame; on "start" it zeroes the counts, on "stop" it answers with them.
 */
const [url, countText] = process.argv.slice(2);
const count = Number(countText);
let frames = 0;
let bytes = 0;
let started = performance.now();
let cpu = process.cpuUsage();
let firstFrames = 0;
const sockets: WebSocket[] = [];

const connect = (i: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url!, { perMessageDeflate: false });
    let first = true;
    socket.on('open', () => socket.send(JSON.stringify({ op: 'subscribe', view: 'cart', key: `c-${i}` })));
    socket.on('message', (data: Buffer) => {
      frames++;
      bytes += data.length;
      if (first) {
        first = false;
        firstFrames++;
        resolve();
      }
    });
    socket.on('error', reject);
    sockets.push(socket);
  });

for (let from = 0; from < count; from += 50) {
  await Promise.all(Array.from({ length: Math.min(50, count - from) }, (_, i) => connect(from + i)));
}
process.send!({ op: 'ready', clients: firstFrames });
process.on('message', (message: { op: string }) => {
  if (message.op === 'start') {
    frames = 0;
    bytes = 0;
    started = performance.now();
    cpu = process.cpuUsage();
  } else if (message.op === 'stop') {
    const used = process.cpuUsage(cpu);
    const seconds = (performance.now() - started) / 1000;
    process.send!({ op: 'counts', frames, bytes, seconds, cores: (used.user + used.system) / 1e6 / seconds });
  } else if (message.op === 'exit') {
    for (const socket of sockets) socket.terminate();
    process.disconnect();
  }
});
