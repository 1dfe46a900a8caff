import { Command, Option } from 'commander';
import { SubscriptionsClient } from '../../client/subscriptions.js';
import { serverUrlOption } from '../serverUrl.js';

interface ServerOptions {
  url: string;
  token?: string;
}

/** `foldline subscriptions add|list|remove|replay-dead`: a running server's webhook subscriptions, through its API. */
export function subscriptionsCommand(): Command {
  const command = new Command('subscriptions').description("manage a running server's webhook subscriptions (its /v1/subscriptions API; staff or service token when auth is on)");
  command.addCommand(
    withServer(new Command('add'))
      .description('add a webhook subscription: the events of the chosen types (or the changes of the chosen views), POSTed to an endpoint, signed with the secret (foldline-signature)')
      .requiredOption('--name <name>', 'lower-case letters, digits and dashes')
      .requiredOption('--endpoint <url>', 'where deliveries are POSTed')
      .addOption(new Option('--secret <secret>', 'HMAC-SHA256 key of the signatures, 16 to 256 characters; prefer the environment variable: the flag shows in ps').env('FOLDLINE_WEBHOOK_SECRET').makeOptionMandatory())
      .option('--types <types>', 'comma-separated event types to deliver (default: every type)')
      .option('--views <views>', 'comma-separated views whose changes are delivered instead of events (views on the change stream: foldline start --change-views)')
      .addOption(new Option('--from <where>', 'deliver what comes from now on, or all there is too (the whole ledger; the changes the change stream keeps)').choices(['now', 'start']).default('now'))
      .action(async (options: ServerOptions & { name: string; endpoint: string; secret: string; types?: string; views?: string; from: 'now' | 'start' }) => {
        const types = commaList(options.types);
        const views = commaList(options.views);
        const added = await client(options).add({ name: options.name, url: options.endpoint, secret: options.secret, from: options.from, ...(types && { types }), ...(views && { views }) });
        console.log(JSON.stringify(added));
      }),
  );
  command.addCommand(
    withServer(new Command('list'))
      .description('list the subscriptions with their lag (records not yet delivered or skipped) and dead letters, one JSON object a line')
      .action(async (options: ServerOptions) => {
        for (const subscription of await client(options).list()) console.log(JSON.stringify(subscription));
      }),
  );
  command.addCommand(
    withServer(new Command('remove'))
      .description('remove a subscription, its checkpoint and its dead letters')
      .argument('<name>')
      .action(async (name: string, options: ServerOptions) => {
        console.log(JSON.stringify(await client(options).remove(name)));
      }),
  );
  command.addCommand(
    withServer(new Command('replay-dead'))
      .description("deliver a subscription's dead letters again (each with its retries); those failing again stay")
      .argument('<name>')
      .action(async (name: string, options: ServerOptions) => {
        console.log(JSON.stringify(await client(options).replayDead(name)));
      }),
  );
  return command;
}

function withServer(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', 'base URL of the server, such as http://127.0.0.1:8080').env('FOLDLINE_URL').argParser(serverUrlOption).makeOptionMandatory())
    .addOption(new Option('--token <jwt>', 'bearer token (staff or service) when the server has auth on').env('FOLDLINE_TOKEN'));
}

function client(options: ServerOptions): SubscriptionsClient {
  return new SubscriptionsClient(options.url, options.token || undefined);
}

/** A comma-separated flag's items; undefined when it names none. */
function commaList(flag: string | undefined): string[] | undefined {
  const items = flag?.split(',').map((item) => item.trim()).filter(Boolean);
  return items?.length ? items : undefined;
}
