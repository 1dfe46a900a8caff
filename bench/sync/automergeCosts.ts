import * as Automerge from '@automerge/automerge';
import { performance } from 'node:perf_hooks';
import { collectGarbage } from '../gc.js';

interface CartDoc {
  items: Record<string, { quantity: Automerge.Counter }>;
}

export interface AutomergeCosts {
  /** Resident bytes per loaded cart document (three items), and after dropping them all. */
  bytesPerDocument: number;
  bytesKeptAfterFree: number;
  /** One small change at a time through a sync message each way, as the server's repo applies a device's edit. */
  syncApplyMsPerChange: number;
  /** The same changes in one applyChanges call. */
  batchApplyMsPerChange: number;
  /** Reading the new change back and decoding it, as the ledger mirror does after each. */
  decodeMsPerChange: number;
}

function cart(): Automerge.Doc<CartDoc> {
  return Automerge.change(Automerge.init<CartDoc>(), (doc) => {
    doc.items = {};
    for (const sku of ['sku-1', 'sku-2', 'sku-3']) doc.items[sku] = { quantity: new Automerge.Counter(1) };
  });
}

/** Automerge 3.5 alone, in this process: what one cart document costs held, and the apply paths. */
export function measureAutomerge(documents = 1000, changes = 1000): AutomergeCosts {
  const saved = Automerge.save(cart());
  collectGarbage();
  const before = process.memoryUsage().rss;
  let held: Array<Automerge.Doc<CartDoc>> = Array.from({ length: documents }, () => Automerge.load<CartDoc>(saved));
  collectGarbage();
  const loaded = process.memoryUsage().rss;
  for (const doc of held) Automerge.free(doc);
  held = [];
  collectGarbage();
  const freed = process.memoryUsage().rss;

  let source = cart();
  const base = Automerge.clone(source);
  const small: Uint8Array[] = [];
  for (let i = 0; i < changes; i++) {
    source = Automerge.change(source, (doc) => doc.items['sku-1']!.quantity.increment(1));
    small.push(Automerge.getLastLocalChange(source)!);
  }

  let target = Automerge.clone(base);
  let sending = Automerge.clone(base);
  let sendState = Automerge.initSyncState();
  let receiveState = Automerge.initSyncState();
  let read = Automerge.getHeads(target);
  let decodeMs = 0;
  const syncStart = performance.now();
  for (const change of small) {
    [sending] = Automerge.applyChanges(sending, [change]);
    const [nextSend, message] = Automerge.generateSyncMessage(sending, sendState);
    sendState = nextSend;
    if (message) [target, receiveState] = Automerge.receiveSyncMessage(target, receiveState, message);
    const [nextReceive, reply] = Automerge.generateSyncMessage(target, receiveState);
    receiveState = nextReceive;
    if (reply) [sending, sendState] = Automerge.receiveSyncMessage(sending, sendState, reply);
    const decodeStart = performance.now();
    for (const bytes of Automerge.getChangesSince(target, read)) Automerge.decodeChange(bytes);
    read = Automerge.getHeads(target);
    decodeMs += performance.now() - decodeStart;
  }
  const syncMs = performance.now() - syncStart - decodeMs;

  const batchStart = performance.now();
  Automerge.applyChanges(Automerge.clone(base), small);
  const batchMs = performance.now() - batchStart;

  return {
    bytesPerDocument: Math.round((loaded - before) / documents),
    bytesKeptAfterFree: Math.round((freed - before) / documents),
    syncApplyMsPerChange: syncMs / changes,
    batchApplyMsPerChange: batchMs / changes,
    decodeMsPerChange: decodeMs / changes,
  };
}
