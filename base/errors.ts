/**
 * The one error type of foldline: every failure a caller can act on carries a stable `code`
 * and, where it concerns input, the JSON path of the bad part and the index of the bad event
 * in its batch. It names no transport: the gateway maps codes to HTTP statuses in one place
 * (gateway/http/errorStatus.ts), the CLI to exit codes.
 */
export class FoldlineError extends Error {
  readonly code: string;
  readonly path: string | undefined;
  readonly index: number | undefined;

  constructor(code: string, message: string, options: { path?: string; index?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FoldlineError';
    this.code = code;
    this.path = options.path;
    this.index = options.index;
  }

  /** Whether it names a part of the input at fault (a field, or an event of a batch). */
  get concernsInput(): boolean {
    return this.path !== undefined || this.index !== undefined;
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
