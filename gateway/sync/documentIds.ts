import { createHash } from 'node:crypto';
import { interpretAsDocumentId, stringifyAutomergeUrl, type AutomergeUrl, type DocumentId } from '@automerge/automerge-repo';

/**
 * The document of a view key: its id is derived from the view and key, so it needs no
 * allocation and is the same after any restart. An id is not a secret: access is checked on
 * every sync (see SyncedDocuments.admit).
 */
export function documentUrlOf(view: string, key: string): AutomergeUrl {
  const digest = createHash('sha256').update(view).update('\0').update(key).digest();
  return stringifyAutomergeUrl(Uint8Array.from(digest.subarray(0, 16)) as never);
}

export function documentIdOf(url: AutomergeUrl): DocumentId {
  return interpretAsDocumentId(url);
}
