import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { archiveCommand } from './commands/archive.js';
import { genCommand } from './commands/gen.js';
import { ledgerCommand } from './commands/ledger.js';
import { loadCommand } from './commands/load.js';
import { rebuildCommand } from './commands/rebuild.js';
import { startCommand } from './commands/start.js';
import { subscriptionsCommand } from './commands/subscriptions.js';
import { describeFailure } from './failures.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** The `foldline` command: each subcommand lives in cli/commands/. */
const program = new Command('foldline')
  .description('CRDT projections over partitioned event streams, live views over WebSockets')
  .version(version);

program.addCommand(ledgerCommand());
program.addCommand(genCommand());
program.addCommand(startCommand());
program.addCommand(loadCommand());
program.addCommand(subscriptionsCommand());
program.addCommand(archiveCommand());
program.addCommand(rebuildCommand());

// Every failure ends below, one line each: commander throws its refusals instead of printing them.
let failing: Command = program;
for (const command of withSubcommands(program)) {
  command
    .exitOverride((error) => {
      failing = command;
      throw error;
    })
    .configureOutput({ outputError: () => undefined });
}
program.hook('preAction', (_program, action) => {
  failing = action;
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const { line, exitCode, unexpected } = describeFailure(error);
  if (unexpected) {
    const { cliLogger } = await import('./logger.js');
    cliLogger().error({ err: error }, 'unexpected error');
  }
  if (line !== undefined) process.stderr.write(`${commandPath(failing)}: ${line}\n`);
  process.exit(exitCode);
}

function withSubcommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(withSubcommands)];
}

/** `foldline ledger append`, say. */
function commandPath(command: Command): string {
  return command.parent ? `${commandPath(command.parent)} ${command.name()}` : command.name();
}
