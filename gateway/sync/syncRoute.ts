import { Gauge, type Registry } from 'prom-client';
import uWS, { type TemplatedApp } from 'uwebsockets';
import { FoldlineError } from '../../base/errors.js';
import { bearerToken, type AccessGuard } from '../auth/guard.js';
import { jsonAnswer } from '../http/answer.js';
import type { HttpRoute } from '../http/routes.js';
import { guarded, upgradeAuthorized, type UpgradeChecks } from '../live/liveRoute.js';
import type { GatewayLimits, Principal } from '../types.js';
import type { SyncPeer } from './socketNetwork.js';
import type { SyncedDocuments } from './syncedDocuments.js';

interface SocketData {
  principal: Principal | undefined;
  peer?: SyncPeer;
  expiry?: NodeJS.Timeout;
}

const path = '/v1/sync';

/**
 * `/v1/sync` on uWebSockets.js: automerge-repo's WebSocket protocol (docs/offline.md). The
 * upgrade checks the Origin and the bearer token as `/v1/live` does (`?access_token=` for
 * clients that cannot set headers); each socket is then a peer of the server's repo.
 */
export function registerSyncRoute(app: TemplatedApp, documents: SyncedDocuments, { checks, limits, registry }: { checks: UpgradeChecks; limits: GatewayLimits; registry: Registry }): void {
  const { logger } = checks;
  const network = documents.network;
  new Gauge({
    name: 'foldline_synced_documents',
    help: 'Synced documents loaded in memory',
    registers: [registry],
    collect() {
      this.set(documents.loadedCount);
    },
  });
  app.ws<SocketData>(path, {
    // A first sync carries a document's whole history.
    maxPayloadLength: limits.maxBodyBytes,
    idleTimeout: limits.idleTimeoutSeconds,
    sendPingsAutomatically: true,
    maxBackpressure: limits.maxBackpressureBytes,
    closeOnBackpressureLimit: 1,
    compression: uWS.DISABLED,
    upgrade: (res, req, context) =>
      upgradeAuthorized(path, res, req, context, checks, (principal): SocketData => {
        // No document is public: with auth on, a socket without a token could sync nothing.
        checks.guard.checkAuthenticated(principal);
        return { principal };
      }),
    open: (ws) =>
      guarded(logger, 'sync open', () => {
        const data = ws.getUserData();
        data.peer = network.opened(ws, data.principal);
        // The token authorized the upgrade; the connection must not outlive it.
        const expiresAt = data.principal?.expiresAt;
        if (expiresAt !== undefined) {
          data.expiry = setTimeout(() => ws.end(1008, 'token_expired'), Math.min(Math.max(0, expiresAt - Date.now()), 2 ** 31 - 1));
          data.expiry.unref();
        }
      }),
    message: (ws, message, isBinary) =>
      guarded(logger, 'sync message', () => {
        const { peer } = ws.getUserData();
        if (!isBinary) ws.end(1003, 'messages must be binary (CBOR)');
        else if (peer) network.receive(peer, message);
      }),
    close: (ws) =>
      guarded(logger, 'sync close', () => {
        const data = ws.getUserData();
        clearTimeout(data.expiry);
        if (data.peer) network.closed(data.peer);
      }),
  });
}

/** The route answering a view key's document URL (the mapping's `route`), and `/v1/sync` without an upgrade. */
export function documentRoutes(documents: SyncedDocuments, route: string, guard: AccessGuard): HttpRoute[] {
  return [
    {
      method: 'GET',
      pattern: route,
      async handler({ params, headers }) {
        const principal = guard.identify(bearerToken(headers.get('authorization')));
        const url = await documents.urlOf(principal, params.key!);
        return jsonAnswer(200, { url });
      },
    },
    {
      method: 'GET',
      pattern: path,
      async handler() {
        throw new FoldlineError('upgrade_required', `${path} is a WebSocket: send an upgrade request`);
      },
    },
  ];
}
