import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/ports.js';
import { runFoldline, type CliRun } from './support/cliProcess.js';

/*
 * `foldline start`'s refusals of scale-out settings: one line naming the flag and the
 * endpoint, exit code 2, nothing left behind.
 */
let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'foldline-cli-scale-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function expectRefusal(run: CliRun, line: RegExp): void {
  expect(run.stderr.trimEnd().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stderr.trimEnd()).toMatch(line);
  expect(run.code).toBe(2);
}

const env = { ...process.env, FOLDLINE_LOG_LEVEL: 'silent' };

describe('foldline start on backends run elsewhere', () => {
  it('refuses a Redis that cannot be reached, naming --redis-url and its address', async () => {
    const port = await freePort();
    const run = await runFoldline(['start', '--data', join(scratch, 'redis'), '--port', '0', '--ledger', 'redis', '--redis-url', `redis://127.0.0.1:${port}/0`], { env });
    expectRefusal(run, new RegExp(`^foldline start: cannot reach Redis at redis://127\\.0\\.0\\.1:${port}/0 \\(--redis-url\\): .*ECONNREFUSED`));
  });

  it('refuses a DynamoDB endpoint that cannot be reached, naming --dynamodb-endpoint', async () => {
    const port = await freePort();
    const run = await runFoldline(['start', '--data', join(scratch, 'dynamo'), '--port', '0', '--store', 'dynamodb', '--dynamodb-endpoint', `http://127.0.0.1:${port}`], { env });
    expectRefusal(run, new RegExp(`^foldline start: cannot reach DynamoDB at http://127\\.0\\.0\\.1:${port} \\(--dynamodb-endpoint\\)`));
  });

  it('refuses a projector or a gateway on backends that only one process can use', async () => {
    const run = await runFoldline(['start', '--role', 'gateway', '--data', join(scratch, 'embedded'), '--port', '0'], { env });
    expectRefusal(run, /^foldline start: --role gateway needs a ledger and a store that several processes share: --ledger redis or kinesis, and --store dynamodb$/);
  });

  it('refuses to start without a data directory for an embedded backend', async () => {
    const run = await runFoldline(['start', '--port', '0'], { env });
    expectRefusal(run, /^foldline start: the embedded ledger and store keep their files in a data directory, and none was given; check --data/);
  });
});
