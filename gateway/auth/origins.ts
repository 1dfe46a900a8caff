import { isLoopbackHost } from './listenAddress.js';

/**
 * Which browser origins may open a WebSocket. Entries are exact origins, origins ending in
 * `:*` (any port) or `*`. Compared case-insensitively, as origins are.
 */
export class OriginAllowList {
  private readonly exact = new Set<string>();
  private readonly anyPort = new Set<string>();
  private readonly anyOrigin: boolean;

  constructor(entries: readonly string[]) {
    this.anyOrigin = entries.includes('*');
    for (const entry of entries.map((e) => e.trim().toLowerCase())) {
      if (entry.endsWith(':*')) this.anyPort.add(entry.slice(0, -2));
      else this.exact.add(entry);
    }
  }

  /**
   * `origin` is the Origin header, empty when absent: clients that are not browsers send
   * none, and could forge one anyway; the check protects browsers' users from other sites.
   */
  allows(origin: string): boolean {
    if (origin === '' || this.anyOrigin) return true;
    const normalized = origin.toLowerCase();
    if (this.exact.has(normalized)) return true;
    const port = /^(.*):[0-9]{1,5}$/.exec(normalized);
    return port !== null && this.anyPort.has(port[1]!);
  }
}

/** The server's own origin, and any port of the loopback names when it listens on loopback. */
export function defaultOrigins(host: string, port: number): string[] {
  const own = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (!isLoopbackHost(host)) return [own];
  return [own, 'http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'];
}
