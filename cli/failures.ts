import { CommanderError } from 'commander';
import { FoldlineError } from '../base/errors.js';

/** The exit codes of every command (README.md, "The command"). */
export const exitCodes = {
  /** The command line or the environment is wrong: running it again unchanged fails again. */
  usage: 2,
  /** The command was right, but what it met failed (a port or a data directory in use, a bad input line, a defect). */
  runtime: 1,
} as const;

interface Refusal {
  exitCode: number;
  /** What to do, naming the flag or variable to change; the error's message says what is wrong. */
  hint?: string;
}

const authSecretFlag = 'FOLDLINE_AUTH_SECRET (or --auth-secret)';

/** The error codes the commands expect, in one place: an exit code and what to do. */
const refusalsByCode: Readonly<Record<string, Refusal>> = {
  // Usage and configuration.
  insecure_host: { exitCode: exitCodes.usage, hint: `set ${authSecretFlag}, or give a loopback --host such as 127.0.0.1` },
  weak_secret: { exitCode: exitCodes.usage, hint: `set ${authSecretFlag} to 32 or more random bytes, such as the output of \`openssl rand -base64 32\`` },
  bad_data_dir: { exitCode: exitCodes.usage, hint: 'give --data a directory that can be created' },
  no_data_dir: { exitCode: exitCodes.usage, hint: 'check --data' },
  no_layout: { exitCode: exitCodes.usage, hint: 'check --data, or --name and --create' },
  layout_mismatch: { exitCode: exitCodes.usage, hint: 'a ledger keeps the --shards it was created with' },
  // The message names the flag and the endpoint.
  backend_unreachable: { exitCode: exitCodes.usage },
  bad_domain: { exitCode: exitCodes.usage, hint: 'check --domain (or FOLDLINE_DOMAIN)' },
  no_generator: { exitCode: exitCodes.usage, hint: 'give a --domain that has one' },
  bad_output: { exitCode: exitCodes.usage, hint: 'give --out a file that can be created' },
  bad_input: { exitCode: exitCodes.usage },
  unknown_stream: { exitCode: exitCodes.usage },
  bad_option: { exitCode: exitCodes.usage },
  listen_failed: { exitCode: exitCodes.usage, hint: 'check --host and --port' },
  // Run time.
  port_in_use: { exitCode: exitCodes.runtime, hint: 'stop what listens there or give another --port' },
  locked: { exitCode: exitCodes.runtime, hint: 'stop that process or give another --data' },
  rebuild_pending: { exitCode: exitCodes.runtime, hint: 'restart that service (SIGTERM, then foldline start) so that it switches to it, then rebuild again' },
  new_projection: { exitCode: exitCodes.usage, hint: 'fold it from the whole history first: foldline archive, then foldline rebuild --projection NAME (docs/operations.md)' },
  bad_archive: { exitCode: exitCodes.runtime, hint: 'give --skip-bad to report the bad parts and go on without them' },
  unreachable: { exitCode: exitCodes.runtime, hint: 'is a foldline server running there? check --url' },
  // A server's refusals of what a client command sent it.
  unauthorized: { exitCode: exitCodes.usage, hint: 'a server with auth on needs --token (staff or service)' },
  invalid_token: { exitCode: exitCodes.usage, hint: 'check --token' },
  token_expired: { exitCode: exitCodes.usage, hint: 'give a fresh --token' },
  forbidden: { exitCode: exitCodes.usage, hint: '--token must be a staff or service token' },
  invalid_subscription: { exitCode: exitCodes.usage },
  subscription_exists: { exitCode: exitCodes.usage, hint: 'remove it first, or choose another --name' },
  unknown_subscription: { exitCode: exitCodes.usage, hint: 'see foldline subscriptions list' },
};

export interface Failure {
  /** One line for stderr, after the command's name; none when commander printed help. */
  line?: string;
  exitCode: number;
  /** Neither a refusal of commander's nor a FoldlineError: a defect, whose stack belongs in the log. */
  unexpected: boolean;
}

/**
 * What a command that failed prints and exits with. Commander's own refusals (an unknown
 * option, a bad value, a missing subcommand) are usage errors; a FoldlineError is expected and needs no stack: its
 * code gives the exit code (run time unless listed) and the hint; anything else is unexpected.
 */
export function describeFailure(error: unknown): Failure {
  if (error instanceof CommanderError) {
    // `--help` and `--version` end this way too, and a missing subcommand prints the help.
    if (error.exitCode === 0) return { exitCode: 0, unexpected: false };
    if (error.code === 'commander.help') return { exitCode: exitCodes.usage, unexpected: false };
    return { line: oneLine(`${error.message.replace(/^error: /, '')}; see --help`), exitCode: exitCodes.usage, unexpected: false };
  }
  if (error instanceof FoldlineError) {
    const refusal = refusalsByCode[error.code];
    const line = refusal?.hint === undefined ? error.message : `${error.message}; ${refusal.hint}`;
    return { line: oneLine(line), exitCode: refusal?.exitCode ?? exitCodes.runtime, unexpected: false };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { line: oneLine(`unexpected error: ${message} (the log above has its stack)`), exitCode: exitCodes.runtime, unexpected: true };
}

/** Messages that quote a cause (a module's syntax error, say) may span lines. */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
