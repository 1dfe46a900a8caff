import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../cli/serverProcess.js';
import { retailDomain } from '../retail/domain.js';
import { startService } from '../service/service.js';
import { foldlineBin, runFoldline, type CliRun } from './support/cliProcess.js';
import { freePort, isPortFree } from './support/ports.js';

/*
 * `foldline start` as users meet it, run as a child process the documented way
 * (`node bin/foldline.js`, which adds the service's V8 flags itself): every refusal is one
 * line and an exit code, and leaves no listener and no lock behind.
 */

/** The environment of a user who set nothing foldline reads (the log level stays info). */
const userEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const name of ['FOLDLINE_AUTH_SECRET', 'FOLDLINE_DOMAIN', 'FOLDLINE_LOG_LEVEL']) delete env[name];
  return env;
};

const lockOf = (dataDir: string): string => join(dataDir, 'ledger', 'foldline.lock');

/** The run printed exactly one line on stderr, without a stack, and exited with `code`. */
function expectRefusal(run: CliRun, code: number, line: RegExp): void {
  expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stderr.trimEnd()).toMatch(line);
  expect(run.code).toBe(code);
}

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'foldline-cli-start-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('foldline start refuses a misconfiguration in one line, exit code 2', () => {
  it('refuses a non-loopback --host without an auth secret, an empty variable counting as none', async () => {
    const port = await freePort();
    const dataDir = join(scratch, 'insecure');
    const run = await runFoldline(['start', '--data', dataDir, '--host', '0.0.0.0', '--port', String(port)], { env: { ...userEnv(), FOLDLINE_AUTH_SECRET: '' } });
    expectRefusal(run, 2, /^foldline start: listening on 0\.0\.0\.0 would expose the service without authentication.*FOLDLINE_AUTH_SECRET.*--host/);
    expect(existsSync(dataDir)).toBe(false);
    expect(await isPortFree(port)).toBe(true);
  });

  it('refuses an auth secret shorter than 32 bytes, from the variable or the flag', async () => {
    const port = await freePort();
    const dataDir = join(scratch, 'weak');
    const fromVariable = await runFoldline(['start', '--data', dataDir, '--port', String(port)], { env: { ...userEnv(), FOLDLINE_AUTH_SECRET: 'short' } });
    expectRefusal(fromVariable, 2, /^foldline start: the auth secret is 5 bytes long, fewer than the 32 HS256 needs; set FOLDLINE_AUTH_SECRET \(or --auth-secret\)/);
    const fromFlag = await runFoldline(['start', '--data', dataDir, '--port', String(port), '--auth-secret', 'x'.repeat(31)], { env: userEnv() });
    expectRefusal(fromFlag, 2, /^foldline start: the auth secret is 31 bytes long/);
    expect(existsSync(dataDir)).toBe(false);
    expect(await isPortFree(port)).toBe(true);
  });

  it('refuses a data directory that cannot be created, naming it', async () => {
    const file = join(scratch, 'a-file');
    await writeFile(file, 'not a directory');
    const run = await runFoldline(['start', '--data', join(file, 'x'), '--port', '0'], { env: userEnv() });
    expectRefusal(run, 2, new RegExp(`^foldline start: cannot create data directory ${file}/x/ledger \\(ENOTDIR: not a directory\\); give --data a directory that can be created$`));
  });

  it('refuses a --domain module that cannot be loaded', async () => {
    const dataDir = join(scratch, 'domain');
    const run = await runFoldline(['start', '--data', dataDir, '--port', '0', '--domain', './no-such-domain.ts'], { env: userEnv() });
    expectRefusal(run, 2, /^foldline start: cannot load the domain module \.\/no-such-domain\.ts: .*; check --domain \(or FOLDLINE_DOMAIN\)$/);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('refuses a bad flag value and an unknown flag, without the help', async () => {
    expectRefusal(await runFoldline(['start', '--data', scratch, '--port', '70000'], { env: userEnv() }), 2, /^foldline start: option '--port <n>' argument '70000' is invalid\. --port must be an integer from 0 to 65535; see --help$/);
    expectRefusal(await runFoldline(['start', '--data', scratch, '--prot', '1'], { env: userEnv() }), 2, /^foldline start: unknown option '--prot' \(Did you mean --port\?\); see --help$/);
  });
});

describe('foldline start beside a running server', () => {
  let first: Awaited<ReturnType<typeof startServer>>;
  let firstPort: number;
  beforeAll(async () => {
    // A port given, as users do: the kernel would let no one share a port it picked itself.
    firstPort = await freePort();
    first = await startServer({ args: ['--port', String(firstPort)] });
    const added = await fetch(`${first.url}/v1/events?await=cart/c-77`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'busy-port-1',
        source: 'cli-test',
        type: 'retail.cart.item-added',
        time: '2024-01-01T00:00:00.000Z',
        subject: 'c-77',
        data: { customerId: 'c-77', sku: 'sku-1', quantity: 2 },
      }),
    });
    expect(added.status).toBe(200);
  });
  afterAll(async () => {
    await first?.stop();
  });

  it('refuses its port in use (exit 1): the first server goes on answering every request', async () => {
    const dataDir = join(scratch, 'second');
    const second = await runFoldline(['start', '--data', dataDir, '--port', String(firstPort)], { env: userEnv() });
    expectRefusal(second, 1, new RegExp(`^foldline start: port ${firstPort} is in use; stop what listens there or give another --port$`));
    expect(existsSync(lockOf(dataDir))).toBe(false);
    // Each read on a connection of its own: the kernel would spread them over two listeners.
    const carts = await Promise.all(Array.from({ length: 20 }, () => readOnNewConnection(`${first.url}/v1/views/cart/c-77`)));
    for (const cart of carts) expect(cart).toMatchObject({ status: 200, body: { value: { customerId: 'c-77', itemCount: 2 } } });
  });

  it('refuses its data directory held by the first (exit 1), which keeps its lock', async () => {
    const port = await freePort();
    const run = await runFoldline(['start', '--data', first.dataDir, '--port', String(port)], { env: userEnv() });
    expectRefusal(run, 1, new RegExp(`^foldline start: data directory ${first.dataDir}/ledger is in use by process ${first.child.pid}; stop that process or give another --data$`));
    expect(await isPortFree(port)).toBe(true);
    expect(await readFile(lockOf(first.dataDir), 'utf8')).toBe(String(first.child.pid));
    expect((await fetch(`${first.url}/v1/health`)).status).toBe(200);
  });
});

describe('the documented ways of running foldline start', () => {
  it('node bin/foldline.js runs it with the service’s V8 flags, and a Ctrl-C stops it cleanly', async () => {
    const dataDir = join(scratch, 'flags');
    // Its own process group, as in a terminal, whose Ctrl-C reaches every process of the group.
    const child = spawn(process.execPath, [foldlineBin, 'start', '--data', dataDir, '--port', '0'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: userEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await waitFor(() => /listening on http/.test(stdout) || child.exitCode !== null);
    expect(stdout).toMatch(/^foldline listening on http:\/\/127\.0\.0\.1:\d+$/m);
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(stderr).toContain('"gateway closed"');
    expect(stderr).not.toContain('missingFlags');
    expect(existsSync(lockOf(dataDir))).toBe(false);
  });

  it('prints its version and the environment variable of each flag that has one', async () => {
    const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await runFoldline(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const help = await runFoldline(['start', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--auth-secret <secret>[^]*\(env: FOLDLINE_AUTH_SECRET\)/);
    expect(help.stdout).toMatch(/--domain <module>[^]*\(env: FOLDLINE_DOMAIN\)/);
    expect(help.stdout).toContain('FOLDLINE_LOG_LEVEL');
  });
});

describe('the other commands refuse in one line too', () => {
  it('gen: a bad --out, a domain without a generator, a bad --events', async () => {
    expectRefusal(await runFoldline(['gen', '--events', '3', '--out', join(scratch, 'no-such-dir', 'out.ndjson')]), 2, /^foldline gen: cannot write .*out\.ndjson \(ENOENT: no such file or directory\); give --out a file that can be created$/);
    expectRefusal(await runFoldline(['gen', '--events', '3', '--domain', 'test/support/library/domain.ts']), 2, /^foldline gen: the library domain has no traffic generator; give a --domain that has one$/);
    expectRefusal(await runFoldline(['gen', '--events', 'x']), 2, /^foldline gen: option '--events <n>' argument 'x' is invalid/);
  });

  it('ledger: a missing input file, a missing data directory, an unknown stream, a bad line (exit 1)', async () => {
    const dataDir = join(scratch, 'ledger');
    expectRefusal(await runFoldline(['ledger', 'append', '--data', dataDir, join(scratch, 'missing.ndjson')]), 2, /^foldline ledger append: cannot read .*missing\.ndjson \(ENOENT: no such file or directory\)$/);
    expect(existsSync(dataDir)).toBe(false);
    expectRefusal(await runFoldline(['ledger', 'read', '--data', dataDir, '--stream', 'customer']), 2, /^foldline ledger read: no data directory with a ledger at .*; check --data$/);
    expectRefusal(await runFoldline(['ledger', 'append', '--data', dataDir], { input: '{"id": oops\n' }), 1, /^foldline ledger append: line 1: not JSON/);
    expect(existsSync(join(dataDir, 'foldline.lock'))).toBe(false);
    expectRefusal(await runFoldline(['ledger', 'read', '--data', dataDir, '--stream', 'nope']), 2, /^foldline ledger read: no stream "nope"; the streams are customer, product, salesperson$/);
  });

  it('load: a server that is not there (exit 1), a bad --url (exit 2)', async () => {
    const port = await freePort();
    expectRefusal(await runFoldline(['load', '--url', `http://127.0.0.1:${port}`, '--duration', '1']), 1, new RegExp(`^foldline load: cannot reach http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); is a foldline server running there\\? check --url$`));
    expectRefusal(await runFoldline(['load', '--url', 'ftp://example.com']), 2, /^foldline load: option '--url <url>' argument 'ftp:\/\/example\.com' is invalid/);
  });

  it('load: a server with auth on, without a --token (exit 2)', async () => {
    const dataDir = join(scratch, 'load-auth');
    const service = await startService({ domain: retailDomain, dataDir, host: '127.0.0.1', port: 0, shards: 1, authSecret: 'a-load-test-secret-of-32-bytes-or-more', logger: pino({ level: 'silent' }) });
    try {
      const run = await runFoldline(['load', '--url', service.url, '--duration', '1', '--subscribers', '1']);
      expectRefusal(run, 2, /^foldline load: the server refused a batch \(401 unauthorized: a bearer token is required\); a server with auth on needs --token \(staff or service\)$/);
    } finally {
      await service.close();
    }
  });

  it('a missing command prints the help, exit 2', async () => {
    const run = await runFoldline([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Usage: foldline [options] [command]');
  });
});

function readOnNewConnection(url: string): Promise<{ status: number | undefined; body: unknown }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (answer) => {
      let text = '';
      answer.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      answer.on('end', () => resolve({ status: answer.statusCode, body: JSON.parse(text) }));
    }).once('error', reject);
  });
}

async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 50));
}
