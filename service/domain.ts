import type { DocumentMapping } from '../gateway/sync/types.js';
import type { AccessPolicy, ExtraRoute, StaticAsset, ValidateEvents } from '../gateway/types.js';
import type { ViewDefinition } from '../joiner/types.js';
import type { CloudEvent, StreamRouter, StreamSpec } from '../ledger/types.js';
import type { ProjectionDefinition } from '../projections/types.js';

/**
 * Everything the engine needs to know of a domain, as one plug-in: what its events are and
 * where they go, what to fold them into, the views over those states, who may do what, and
 * what it adds to the service (a page, routes, a demo). The engine names no domain; a domain
 * imports only the engine's definitions.
 */
export interface Domain {
  /** Names the domain in logs and in `--help`. */
  readonly name: string;
  /** Its streams, each with `shards` shards (the layout of a new ledger). */
  streams(shards: number): StreamSpec[];
  /** The stream of a valid event (by its type); an event it does not know routes nowhere (''). */
  readonly route: StreamRouter;
  /**
   * URL of a module exporting `projections` and `route` (a FoldTopology): a fold worker
   * thread imports it, since functions cannot cross threads. They are the very objects below.
   */
  readonly topology: string;
  readonly projections: readonly ProjectionDefinition[];
  /** The consumer name (checkpoint, dead letters) of the projections the views read. */
  readonly consumer: string;
  readonly views: readonly ViewDefinition[];
  /** Checks a whole batch before anything is appended (see ValidateEvents). */
  readonly validate: ValidateEvents;
  /** Who may read and append what, and the roles tokens may carry. */
  readonly access: AccessPolicy;
  /** Files served as they are, by URL path (`/` is the page); loaded once at start. */
  assets?(): Promise<ReadonlyMap<string, StaticAsset>>;
  /** JSON routes the domain adds to the gateway. */
  readonly routes?: readonly ExtraRoute[];
  /** Documents devices edit offline and sync over `/v1/sync`, mirroring one of the views (docs/offline.md). */
  readonly documents?: DocumentMapping;
  /** Seeded, realistic traffic (`foldline gen`, benchmarks): the same seed gives the same events. */
  generate?(options: { seed: number; events: number }): Iterable<CloudEvent>;
  /** What `--demo` adds: a history an empty ledger starts with, and routes only a demo may offer (signing in as anyone). */
  readonly demo?: {
    history(): Iterable<CloudEvent>;
    readonly routes?: readonly ExtraRoute[];
  };
}
