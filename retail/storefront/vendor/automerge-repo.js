/*
 * The entry of /assets/vendor/automerge-repo.js, which esbuild bundles when the service
 * starts (vendorBundle.ts): a stock automerge-repo Repo for the browser, with IndexedDB
 * storage and the WebSocket client adapter. Automerge's wasm travels inside the module as
 * base64 and is compiled before the module's exports are usable (top-level await), so a
 * page needs no bundler, no wasm loader and no second request.
 *
 * The wasm is handed over as a data: URL rather than through initializeBase64Wasm: the
 * browser then decodes and compiles it as it streams, where initializeBase64Wasm decodes it
 * a character at a time on the page's main thread (docs/offline.md has both timings).
 */
import { automergeWasmBase64 } from '@automerge/automerge/automerge.wasm.base64';
import { initializeWasm } from '@automerge/automerge-repo/slim';

await initializeWasm(`data:application/wasm;base64,${automergeWasmBase64}`);

export { Automerge, Counter, decodeHeads, Repo } from '@automerge/automerge-repo/slim';
export { BrowserWebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
export { IndexedDBStorageAdapter } from '@automerge/automerge-repo-storage-indexeddb';
