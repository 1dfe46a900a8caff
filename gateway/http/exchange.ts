import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uwebsockets';
import type { Answer } from './answer.js';

/**
 * One request's response on uWebSockets.js, which must not be touched once the client has
 * gone away and may be written only once: answers at most once, and never after an abort.
 * Construct it first thing in the route handler, before any asynchronous work.
 */
export class Exchange {
  private aborted = false;
  private answered = false;
  private readonly abortListeners: Array<() => void> = [];

  /** `onFinish` gets the status answered, or 0 when the client went away first. */
  constructor(
    private readonly res: HttpResponse,
    private readonly onFinish: (status: number) => void,
  ) {
    res.onAborted(() => {
      this.aborted = true;
      this.onFinish(0);
      for (const listener of this.abortListeners) listener();
    });
  }

  /** Whether an answer can still be written. */
  get open(): boolean {
    return !this.aborted && !this.answered;
  }

  onAbort(listener: () => void): void {
    this.abortListeners.push(listener);
  }

  answer(answer: Answer): void {
    if (!this.open) return;
    this.answered = true;
    // Corked: one syscall for status, headers and body, also when answering after an await.
    this.res.cork(() => {
      this.res.writeStatus(`${answer.status} ${STATUS_CODES[answer.status] ?? ''}`);
      this.res.writeHeader('content-type', answer.contentType);
      for (const [name, value] of Object.entries(answer.headers ?? {})) this.res.writeHeader(name, value);
      if (answer.headOnly) this.res.endWithoutBody(Buffer.byteLength(answer.body), answer.close ?? false);
      else this.res.end(answer.body, answer.close ?? false);
    });
    this.onFinish(answer.status);
  }
}
