import { STATUS_CODES } from 'node:http';
import type { HttpResponse } from 'uwebsockets';
import type { Answer, StreamSink } from './answer.js';

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
      if (answer.stream) this.res.write(answer.body);
      else if (answer.headOnly) this.res.endWithoutBody(Buffer.byteLength(answer.body), answer.close ?? false);
      else this.res.end(answer.body, answer.close ?? false);
    });
    if (answer.stream) answer.stream(this.sink(answer.status));
    else this.onFinish(answer.status);
  }

  /** The rest of a streamed answer: chunked writes, corked, until ended or aborted. */
  private sink(status: number): StreamSink {
    let ended = false;
    let drained: Array<() => void> = [];
    const wake = (): void => {
      const waiting = drained;
      drained = [];
      for (const resolve of waiting) resolve();
    };
    const closeListeners: Array<() => void> = [];
    this.onAbort(() => {
      wake();
      if (!ended) for (const listener of closeListeners) listener();
    });
    const exchange = this;
    return {
      get open() {
        return !ended && !exchange.aborted;
      },
      write: (chunk) => {
        if (ended || this.aborted) return false;
        let sent = true;
        this.res.cork(() => (sent = this.res.write(chunk)));
        return sent;
      },
      writable: () =>
        new Promise<void>((resolve) => {
          if (ended || this.aborted) return resolve();
          drained.push(resolve);
          this.res.onWritable(() => {
            wake();
            return true;
          });
        }),
      end: () => {
        if (ended || this.aborted) return;
        ended = true;
        this.res.cork(() => this.res.end());
        wake();
        this.onFinish(status);
      },
      onClose: (listener) => closeListeners.push(listener),
    };
  }
}
