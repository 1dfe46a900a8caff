import { NodeHttpHandler } from '@smithy/node-http-handler';
import { FoldlineError } from '../../base/errors.js';

/** Where an AWS service is: its endpoint (an emulator, say; absent: AWS's own) and region. */
export interface AwsEndpoint {
  endpoint?: string;
  region: string;
}

/**
 * The config of an SDK client. An endpoint of our own with no credentials in the
 * environment gets placeholder ones: emulators take any, and the SDK would otherwise look
 * for an instance role that is not there. The plain Node HTTP handler is what kinesalite
 * speaks (it has no HTTP/2).
 */
export function awsClientConfig({ endpoint, region }: AwsEndpoint) {
  const placeholder = endpoint !== undefined && process.env['AWS_ACCESS_KEY_ID'] === undefined;
  return {
    region,
    requestHandler: new NodeHttpHandler(),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(placeholder ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  };
}

/** An error of the SDK that says the endpoint could not be reached at all. */
export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code;
  return code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH' || code === 'ECONNRESET' || code === 'ETIMEDOUT';
}

/** The one-line refusal of a service that cannot be reached, naming the flag that gave its endpoint. */
export function unreachable(service: string, { endpoint, region }: AwsEndpoint, flag: string, cause: unknown): FoldlineError {
  const where = endpoint ?? `region ${region}`;
  return new FoldlineError('backend_unreachable', `cannot reach ${service} at ${where} (${flag}): ${(cause as Error).message}`, { cause });
}
