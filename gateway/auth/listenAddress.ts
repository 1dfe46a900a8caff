import { FoldlineError } from '../../base/errors.js';

/** localhost, ::1 and the whole 127.0.0.0/8. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$/.test(host);
}

/** Without auth, anyone who can reach the port may do anything: only loopback is allowed. */
export function checkListenAddress(host: string, authEnabled: boolean): void {
  if (authEnabled || isLoopbackHost(host)) return;
  throw new FoldlineError('insecure_host', `listening on ${host} would expose the service without authentication (no auth secret)`);
}
