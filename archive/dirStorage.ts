import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { FoldlineError } from '../base/errors.js';
import type { ArchiveStorage } from './storage.js';

/** An archive in a local directory (created on first write). */
export class DirStorage implements ArchiveStorage {
  constructor(readonly location: string) {}

  async get(name: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(join(this.location, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new FoldlineError('archive_unreadable', `cannot read ${join(this.location, name)}: ${(error as Error).message}`, { cause: error });
    }
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    const path = join(this.location, name);
    // Written aside, then renamed: a reader never finds a part of it.
    const partial = `${path}.partial`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(partial, bytes, { flush: true });
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw new FoldlineError('archive_unwritable', `cannot write ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw error;
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (!entry.name.endsWith('.partial')) names.push(relative(this.location, path).split(sep).join('/'));
      }
    };
    await walk(this.location);
    return names.filter((name) => name.startsWith(prefix)).sort();
  }
}
