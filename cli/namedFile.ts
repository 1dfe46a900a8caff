import { open, type FileHandle } from 'node:fs/promises';
import { FoldlineError } from '../base/errors.js';

/**
 * Opens a file named on the command line (`r` to read, `w` to write), refusing one that
 * cannot be with `code` and a message naming it, before the command does any work.
 */
export async function openNamedFile(path: string, mode: 'r' | 'w', code: string): Promise<FileHandle> {
  try {
    return await open(path, mode);
  } catch (error) {
    // Node's message ends with the syscall and the path, named here already.
    throw new FoldlineError(code, `cannot ${mode === 'r' ? 'read' : 'write'} ${path} (${(error as Error).message.split(',')[0]})`);
  }
}
