import { FoldlineError } from '../base/errors.js';
import { DirStorage } from './dirStorage.js';
import type { S3Location } from './s3Storage.js';
import type { ArchiveStorage } from './storage.js';

/** Where an archive is, as plain data: what a worker thread is handed to open the same storage. */
export type StorageRef = { kind: 'dir'; path: string } | ({ kind: 's3' } & S3Location);

/** The storage a ref names; the S3 client is loaded only for an S3 one. */
export async function openStorage(ref: StorageRef): Promise<ArchiveStorage> {
  if (ref.kind === 'dir') return new DirStorage(ref.path);
  const { S3Storage } = await import('./s3Storage.js');
  return new S3Storage(ref);
}

/** `--out`/`--archive`: a directory, or `s3://bucket/prefix` with the S3 flags. */
export function storageRefOf(location: string, s3: { endpoint?: string; region?: string } = {}): StorageRef {
  const url = /^s3:\/\/([^/]+)\/?(.*)$/.exec(location);
  if (!url) {
    if (location.startsWith('s3:')) throw new FoldlineError('bad_option', `${location} is not an s3://bucket/prefix URL`);
    return { kind: 'dir', path: location };
  }
  const [, bucket, path] = url as unknown as [string, string, string];
  const prefix = path === '' || path.endsWith('/') ? path : `${path}/`;
  return { kind: 's3', bucket, prefix, ...(s3.endpoint === undefined ? {} : { endpoint: s3.endpoint }), ...(s3.region === undefined ? {} : { region: s3.region }) };
}
