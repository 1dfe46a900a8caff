/**
 * Where an archive's files live: a directory, or a bucket prefix of an S3-compatible store.
 * Names are relative paths with `/` separators. A file is either absent or whole: `put`
 * lands all of its bytes or none (a directory writes a temporary file and renames it; S3
 * makes an object visible only once uploaded).
 */
export interface ArchiveStorage {
  /** Where it is, for messages: a directory's path or an `s3://` URL. */
  readonly location: string;
  /** The file's bytes, or undefined when there is no such file. */
  get(name: string): Promise<Uint8Array | undefined>;
  put(name: string, bytes: Uint8Array): Promise<void>;
  /** The names of every file under `prefix` ('' for all), sorted. */
  list(prefix: string): Promise<string[]>;
}
