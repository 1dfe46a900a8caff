/**
 * The identities of the last `limit` events seen, oldest first: catches an at-least-once
 * source delivering the same event again at a new position, which frontiers cannot.
 */
export class RecentIds {
  private order: string[];
  private head = 0;
  private readonly members: Set<string>;

  constructor(
    private readonly limit: number,
    initial: readonly string[] = [],
  ) {
    this.order = initial.slice(Math.max(0, initial.length - limit));
    this.members = new Set(this.order);
  }

  /** Whether there is a window at all (a limit of 0 remembers nothing). */
  get enabled(): boolean {
    return this.limit > 0;
  }

  /** Remembers an identity; false when it is already in the window. */
  add(identity: string): boolean {
    if (this.members.has(identity)) return false;
    if (this.limit === 0) return true;
    this.members.add(identity);
    this.order.push(identity);
    if (this.members.size > this.limit) this.members.delete(this.order[this.head++]!);
    // Drop the forgotten prefix now and then rather than shifting on every add.
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
    return true;
  }

  toArray(): string[] {
    return this.order.slice(this.head);
  }
}
