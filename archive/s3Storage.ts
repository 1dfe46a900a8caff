import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { FoldlineError } from '../base/errors.js';
import type { ArchiveStorage } from './storage.js';

export interface S3Location {
  bucket: string;
  /** Key prefix of the archive ('' or ending in `/`). */
  prefix: string;
  /** An S3-compatible store's URL (MinIO, s3rver); absent: AWS. */
  endpoint?: string;
  region?: string;
}

/**
 * An archive under a bucket prefix. An object becomes visible only once wholly uploaded,
 * so the manifest, put last, never lists a part of a segment. Credentials come from the
 * SDK's usual chain (environment, profile, instance role).
 */
export class S3Storage implements ArchiveStorage {
  readonly location: string;
  private readonly client: S3Client;

  constructor(private readonly where: S3Location) {
    this.location = `s3://${where.bucket}/${where.prefix.replace(/\/$/, '')}`;
    this.client = new S3Client({
      region: where.region ?? process.env['AWS_REGION'] ?? 'us-east-1',
      ...(where.endpoint === undefined ? {} : { endpoint: where.endpoint, forcePathStyle: true }),
    });
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.where.bucket, Key: this.where.prefix + name }));
      return await answer.Body!.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw this.failure('read', name, error);
    }
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.where.bucket, Key: this.where.prefix + name, Body: bytes }));
    } catch (error) {
      throw this.failure('write', name, error);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.where.bucket, Prefix: this.where.prefix + prefix, ...(token ? { ContinuationToken: token } : {}) }));
        for (const object of page.Contents ?? []) if (object.Key) names.push(object.Key.slice(this.where.prefix.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw this.failure('list', prefix, error);
    }
    return names.sort();
  }

  private failure(what: 'read' | 'write' | 'list', name: string, error: unknown): FoldlineError {
    return new FoldlineError(what === 'write' ? 'archive_unwritable' : 'archive_unreadable', `cannot ${what} ${this.location}/${name}: ${(error as Error).message}`, { cause: error });
  }
}
