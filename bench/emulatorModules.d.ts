// kinesalite and dynalite ship no types: what bench/emulators.ts uses of them.
declare module 'dynalite' {
  import type { Server } from 'node:http';
  export default function dynalite(options?: { createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }): Server;
}

declare module 'kinesalite' {
  import type { Server } from 'node:http';
  export default function kinesalite(options?: { createStreamMs?: number; deleteStreamMs?: number; updateStreamMs?: number; shardLimit?: number }): Server;
}
