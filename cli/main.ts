import { Command } from 'commander';
import { ledgerCommand } from './commands/ledger.js';

/** The `foldline` command: each subcommand lives in cli/commands/. */
const program = new Command('foldline')
  .description('CRDT projections over partitioned event streams, live views over WebSockets')
  .showHelpAfterError();

program.addCommand(ledgerCommand());

await program.parseAsync(process.argv);
