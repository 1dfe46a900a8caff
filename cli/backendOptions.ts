import { InvalidArgumentError, Option, type Command } from 'commander';
import { ledgerKinds, storeKinds, type BackendChoice } from '../service/backends.js';

/** What the backend flags give, as commander parses them. */
export interface BackendFlags {
  data?: string;
  ledger: BackendChoice['ledger'];
  store: BackendChoice['store'];
  redisUrl: string;
  kinesisEndpoint?: string;
  dynamodbEndpoint?: string;
  region: string;
  name: string;
  create: 'yes' | 'no' | 'local';
}

/** Stream, table and key names allow these characters (DynamoDB and Kinesis names do). */
function deploymentName(text: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(text)) throw new InvalidArgumentError('--name must be 1 to 64 letters, digits, `_`, `.` or `-`');
  return text;
}

/** Adds the flags that choose the ledger and the store, and where they are, each with its environment twin. */
export function addBackendOptions(command: Command): Command {
  return command
    .addOption(new Option('--ledger <kind>', 'where events are kept').choices(ledgerKinds).default('embedded').env('FOLDLINE_LEDGER'))
    .addOption(new Option('--store <kind>', 'where entity states and checkpoints are kept').choices(storeKinds).default('embedded').env('FOLDLINE_STORE'))
    .addOption(new Option('--redis-url <url>', 'the Redis of --ledger redis').default('redis://127.0.0.1:6379/0').env('FOLDLINE_REDIS_URL'))
    .addOption(new Option('--kinesis-endpoint <url>', "Kinesis's endpoint for --ledger kinesis (default: AWS's own in --region)").env('FOLDLINE_KINESIS_ENDPOINT'))
    .addOption(new Option('--dynamodb-endpoint <url>', "DynamoDB's endpoint for --store dynamodb (default: AWS's own in --region)").env('FOLDLINE_DYNAMODB_ENDPOINT'))
    .addOption(new Option('--region <region>', 'AWS region').default('us-east-1').env('AWS_REGION'))
    .addOption(new Option('--name <name>', 'prefixes every stream, table and key, so that deployments can share one Redis or account').argParser(deploymentName).default('foldline').env('FOLDLINE_NAME'))
    .addOption(
      new Option('--create [when]', 'create missing streams and tables: yes, no, or local (only against loopback endpoints)')
        .choices(['yes', 'no', 'local'])
        .preset('yes')
        .default('local')
        .env('FOLDLINE_CREATE'),
    );
}

/** The backend choice the flags make. */
export function backendChoice(flags: BackendFlags): BackendChoice {
  // AWS's own endpoints are not loopback: without one given, nothing is created unless asked.
  const endpoints = [
    ...(flags.ledger === 'redis' ? [flags.redisUrl] : []),
    ...(flags.ledger === 'kinesis' ? [flags.kinesisEndpoint ?? 'https://kinesis.amazonaws.com'] : []),
    ...(flags.store === 'dynamodb' ? [flags.dynamodbEndpoint ?? 'https://dynamodb.amazonaws.com'] : []),
  ];
  const create = flags.create === 'yes' || (flags.create === 'local' && endpoints.every(isLoopback));
  return {
    ledger: flags.ledger,
    store: flags.store,
    ...(flags.data === undefined ? {} : { dataDir: flags.data }),
    redisUrl: flags.redisUrl,
    ...(flags.kinesisEndpoint === undefined ? {} : { kinesisEndpoint: flags.kinesisEndpoint }),
    ...(flags.dynamodbEndpoint === undefined ? {} : { dynamodbEndpoint: flags.dynamodbEndpoint }),
    region: flags.region,
    name: flags.name,
    create,
  };
}

function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}
