#!/usr/bin/env -S node --initial-old-space-size=256 --no-allocation-site-pretenuring
// Runs the TypeScript CLI directly through tsx: there is no build step.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(import.meta.url);
// The service's V8 flags (cli/heapFlags.ts says why), spelled once, on the first line. That
// line applies them only when this file is executed itself, and V8 reads them only at
// process start: run as `node bin/foldline.js`, this runs node again with them.
const serviceFlags = readFileSync(script, 'utf8').split('\n', 1)[0].split(' ').filter((word) => word.startsWith('--'));
const missingFlags = serviceFlags.filter((flag) => !process.execArgv.includes(flag));

if (missingFlags.length === 0) {
  if (process.channel) endWithParent();
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
} else {
  runWithFlags(missingFlags);
}

/** Runs this command in a node started with `flags`, and ends as it ends. */
function runWithFlags(flags) {
  // The IPC channel only tells the child when this process is gone (endWithParent).
  const child = spawn(process.execPath, [...process.execArgv, ...flags, script, ...process.argv.slice(2)], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
  // What a supervisor sends this process is meant for the child. A terminal's Ctrl-C reaches
  // both, so the child gets it twice: the commands take a repeated signal as one.
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (signal) => child.kill(signal);
  for (const signal of signals) process.on(signal, forward);
  child.once('error', (error) => {
    process.stderr.write(`foldline: cannot start node: ${error.message}\n`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    for (const name of signals) process.off(name, forward);
    if (signal === null) process.exit(code);
    // Ended by a signal: end by the same one, for the shell or supervisor to see.
    process.kill(process.pid, signal);
  });
}

/**
 * Started by runWithFlags: its channel closes before this process ends only if the parent
 * was killed (SIGKILL), which could not forward it. Die the same way, rather than go on
 * unseen, holding the port and the data directory.
 */
function endWithParent() {
  // The channel must not keep this process alive.
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGKILL'));
}
