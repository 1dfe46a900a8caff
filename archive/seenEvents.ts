/*
 * The events a bare export has shown, by (source, id), for dropping its duplicates. A Set of
 * `source + id` strings held about 100 bytes per event, most of a worker's memory on a large
 * export; this holds a 96-bit hash of each, 12 bytes a slot in an open-addressed table kept
 * at most three quarters full. Two different events take one hash with a probability of about
 * n² / 2^97 for n events (below 10^-14 for 10^8): an event is never dropped but for that.
 */

const lanes = 3;
const firstSlots = 1 << 16;

export class SeenEvents {
  private slots = new Int32Array(firstSlots * lanes);
  private mask = firstSlots - 1;
  private size = 0;

  /** Records the event; false when it was recorded before. */
  add(source: string, id: string): boolean {
    hash[0] = 0x811c9dc5;
    hash[1] = 0x01000193;
    hash[2] = 0x6a09e667;
    mix(source);
    // A separator that no UTF-16 code unit equals: ("ab", "c") and ("a", "bc") differ.
    step(0x10000);
    mix(id);
    // Lane 2 is never 0 in a used slot: 0 marks a free one.
    return this.insert(fmix(hash[0]!), fmix(hash[1]!), fmix(hash[2]!) | 1);
  }

  private insert(a: number, b: number, c: number): boolean {
    for (let slot = (a ^ b) & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = slot * lanes;
      const held = this.slots[at + 2]!;
      if (held === 0) {
        this.slots[at] = a;
        this.slots[at + 1] = b;
        this.slots[at + 2] = c;
        if (++this.size * 4 > (this.mask + 1) * 3) this.grow();
        return true;
      }
      if (held === c && this.slots[at] === a && this.slots[at + 1] === b) return false;
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    this.size = 0;
    for (let at = 0; at < old.length; at += lanes) if (old[at + 2] !== 0) this.insert(old[at]!, old[at + 1]!, old[at + 2]!);
  }
}

/** The lanes of the hash being computed. */
const hash = new Int32Array(lanes);

function mix(text: string): void {
  for (let i = 0; i < text.length; i++) step(text.charCodeAt(i));
}

/** One code unit into each lane, each with a multiplier of its own. */
function step(code: number): void {
  hash[0] = Math.imul(hash[0]! ^ code, 0x01000193);
  hash[1] = Math.imul(hash[1]! ^ code, 0x5bd1e995);
  hash[2] = Math.imul(hash[2]! ^ code, 0x27d4eb2d) ^ (hash[2]! >>> 15);
}

/** MurmurHash3's finalizer: every input bit reaches every output bit. */
function fmix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}
