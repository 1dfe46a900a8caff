/**
 * The one error type of foldline: every failure a caller can act on carries a stable
 * `code`, and where it concerns input, the HTTP status and the JSON path of the bad part.
 */
export class FoldlineError extends Error {
  readonly code: string;
  readonly status: number;
  readonly path: string | undefined;
  readonly index: number | undefined;

  constructor(code: string, message: string, options: { status?: number; path?: string; index?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FoldlineError';
    this.code = code;
    this.status = options.status ?? 500;
    this.path = options.path;
    this.index = options.index;
  }

  /** The `error` member of an HTTP or WebSocket error answer. */
  toJSON(): { code: string; message: string; index?: number; path?: string } {
    return {
      code: this.code,
      message: this.message,
      ...(this.index === undefined ? {} : { index: this.index }),
      ...(this.path === undefined ? {} : { path: this.path }),
    };
  }
}
