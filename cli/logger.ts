import { pino, type Logger } from 'pino';

/** The structured log of a command: on stderr, since stdout is for what a command answers. */
export function cliLogger(): Logger {
  return pino({ name: 'foldline', level: process.env['FOLDLINE_LOG_LEVEL'] ?? 'info' }, pino.destination(2));
}
