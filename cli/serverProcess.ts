import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceNodeFlags } from './heapFlags.js';

const bin = fileURLToPath(new URL('../bin/foldline.js', import.meta.url));

export interface ServerProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  /** SIGTERM, wait for exit; `keepData` leaves the data directory for a restart. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** A node process that printed the URL it listens on. */
export interface ListeningProcess {
  url: string;
  child: ChildProcess;
  /** SIGTERM, wait for exit. */
  stop(): Promise<void>;
}

/** Starts `foldline start` on a free port and resolves once it listens. */
export async function startServer(options: { dataDir?: string; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'foldline-server-')));
  const { url, child, stop } = await startListening('foldline start', [...serviceNodeFlags, bin, 'start', '--data', dataDir, '--port', '0', ...(options.args ?? [])], {
    ...options.env,
    FOLDLINE_LOG_LEVEL: 'warn',
  });
  return {
    url,
    dataDir,
    child,
    async stop({ keepData = false } = {}) {
      await stop();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs node with `args` and resolves once it prints `listening on <url>` (on stdout or stderr). */
export async function startListening(name: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<ListeningProcess> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on ((?:http|ws):\/\/[^\s"]+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${output}`)));
    setTimeout(() => reject(new Error(`${name} did not listen within 30 s:\n${output}`)), 30_000).unref();
  });
  return {
    url,
    child,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
