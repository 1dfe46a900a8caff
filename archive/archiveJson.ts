import { FoldlineError } from '../base/errors.js';

/** JSON text of an archive, parsed: bad text is a `bad_archive` naming where it is and what it should be. */
export function parseArchiveJson(text: string, where: string, what = ''): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FoldlineError('bad_archive', `${where}: ${what ? `${what} is ` : ''}not JSON (${(error as Error).message})`);
  }
}
