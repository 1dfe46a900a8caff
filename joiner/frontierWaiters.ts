import { FoldlineError } from '../base/errors.js';
import { frontierCovers, mergeFrontiers, type Frontier } from '../crdt/index.js';

interface Waiter {
  required: Frontier;
  resolve: () => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Callers waiting until the folded frontier covers theirs, each with a deadline. */
export class FrontierWaiters {
  private readonly waiting = new Set<Waiter>();

  wait(required: Frontier, waitMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        required: mergeFrontiers(required),
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiting.delete(waiter);
          reject(
            new FoldlineError('not_caught_up', `the views do not reflect the requested token yet (waited ${waitMs} ms)`, { }),
          );
        }, waitMs),
      };
      this.waiting.add(waiter);
    });
  }

  /** Releases every waiter that `reached` covers. */
  advance(reached: Frontier): void {
    for (const waiter of this.waiting) {
      if (!frontierCovers(reached, waiter.required)) continue;
      clearTimeout(waiter.timer);
      this.waiting.delete(waiter);
      waiter.resolve();
    }
  }

  failAll(error: Error): void {
    for (const waiter of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.waiting.clear();
  }
}
