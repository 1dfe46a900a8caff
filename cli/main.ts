import { Command } from 'commander';
import { genCommand } from './commands/gen.js';
import { ledgerCommand } from './commands/ledger.js';
import { loadCommand } from './commands/load.js';
import { startCommand } from './commands/start.js';

/** The `foldline` command: each subcommand lives in cli/commands/. */
const program = new Command('foldline')
  .description('CRDT projections over partitioned event streams, live views over WebSockets')
  .showHelpAfterError();

program.addCommand(ledgerCommand());
program.addCommand(genCommand());
program.addCommand(startCommand());
program.addCommand(loadCommand());

await program.parseAsync(process.argv);
