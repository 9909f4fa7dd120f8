/**
 * The event queue: a binary min-heap of slot indices over typed arrays, ordered by (time, insertion
 * sequence), so events at equal times run in the order they were scheduled. Slots are recycled
 * through a free list; each slot knows its heap position, so cancelling a timer removes it at once
 * (O(log n)) instead of leaving a tombstone that would pile up under re-armed timeouts.
 */
import { SimError } from './errors.js';

/** Default bound on pending events; see WorldOptions.maxPendingEvents. */
export const DEFAULT_MAX_PENDING_EVENTS = 4_000_000;

export type EventFn = (arg: unknown) => unknown;

export class EventQueue {
  private capacity: number;
  private readonly maxPending: number;
  private heap: Int32Array; // heap position -> slot
  private pos: Int32Array; // slot -> heap position, -1 when free
  private time: Float64Array; // slot -> virtual time (us)
  private seq: Float64Array; // slot -> insertion sequence number
  private readonly fns: (EventFn | undefined)[] = [];
  private readonly args: unknown[] = [];
  private free: Int32Array; // stack of free slots
  private freeTop = 0;
  private nextSlot = 0;
  private nextSeq = 0;
  size = 0;

  constructor(maxPending = DEFAULT_MAX_PENDING_EVENTS, initialCapacity = 1024) {
    if (!Number.isInteger(maxPending) || maxPending < 1) {
      throw new SimError(
        'ERR_BAD_ARGUMENT',
        `maxPendingEvents must be a positive integer, got ${maxPending}`,
      );
    }
    this.maxPending = maxPending;
    this.capacity = Math.min(initialCapacity, maxPending);
    this.heap = new Int32Array(this.capacity);
    this.pos = new Int32Array(this.capacity);
    this.time = new Float64Array(this.capacity);
    this.seq = new Float64Array(this.capacity);
    this.free = new Int32Array(this.capacity);
  }

  /** Adds an event; returns its slot, which stays valid until the event is popped or removed. */
  push(timeUs: number, fn: EventFn, arg: unknown): number {
    let slot: number;
    if (this.freeTop > 0) {
      slot = this.free[--this.freeTop]!;
    } else {
      if (this.nextSlot === this.capacity) this.grow();
      slot = this.nextSlot++;
    }
    this.time[slot] = timeUs;
    this.seq[slot] = this.nextSeq++;
    this.fns[slot] = fn;
    this.args[slot] = arg;
    this.siftUp(this.size++, slot);
    return slot;
  }

  /** Time of the earliest event; only meaningful when size > 0. */
  peekTime(): number {
    return this.time[this.heap[0]!]!;
  }

  /** Removes the earliest event and returns its slot; read it with fnOf/argOf before the next push. */
  pop(): number {
    const top = this.heap[0]!;
    this.detach(top);
    const last = this.heap[--this.size]!;
    if (this.size > 0) this.siftDown(0, last);
    return top;
  }

  /** Removes a pending event by slot (for cancelled timers). Returns false when it is not pending. */
  remove(slot: number): boolean {
    if (slot < 0 || slot >= this.nextSlot) return false;
    const at = this.pos[slot]!;
    if (at < 0) return false;
    this.detach(slot);
    const last = this.heap[--this.size]!;
    if (at < this.size) {
      // Put the last element in the hole and restore order in whichever direction it is violated.
      this.siftUp(at, last);
      if (this.heap[at] === last) this.siftDown(at, last);
    }
    return true;
  }

  /** fn, arg and slot of the event taken by the last take(). */
  takenFn: EventFn | undefined;
  takenArg: unknown;
  takenSlot = -1;

  /**
   * Removes the earliest event, recycles its slot and leaves its fn and arg in takenFn / takenArg:
   * the run loop's one call per event (pop + fnOf + argOf + release in one).
   */
  take(): void {
    const slot = this.heap[0]!;
    this.pos[slot] = -1;
    const last = this.heap[--this.size]!;
    if (this.size > 0) this.siftDown(0, last);
    this.takenFn = this.fns[slot];
    this.takenArg = this.args[slot];
    this.takenSlot = slot;
    this.fns[slot] = undefined;
    this.args[slot] = undefined;
    this.free[this.freeTop++] = slot;
  }

  fnOf(slot: number): EventFn {
    return this.fns[slot]!;
  }

  argOf(slot: number): unknown {
    return this.args[slot];
  }

  /** Recycles a popped slot once its fn and arg have been read. */
  release(slot: number): void {
    this.fns[slot] = undefined;
    this.args[slot] = undefined;
    this.free[this.freeTop++] = slot;
  }

  private detach(slot: number): void {
    this.pos[slot] = -1;
  }

  private less(a: number, b: number): boolean {
    const ta = this.time[a]!;
    const tb = this.time[b]!;
    return ta < tb || (ta === tb && this.seq[a]! < this.seq[b]!);
  }

  private siftUp(at: number, slot: number): void {
    const heap = this.heap;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = heap[parentAt]!;
      if (!this.less(slot, parent)) break;
      heap[at] = parent;
      this.pos[parent] = at;
      at = parentAt;
    }
    heap[at] = slot;
    this.pos[slot] = at;
  }

  private siftDown(at: number, slot: number): void {
    const heap = this.heap;
    const size = this.size;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size && this.less(heap[right]!, heap[child]!)) child = right;
      const c = heap[child]!;
      if (!this.less(c, slot)) break;
      heap[at] = c;
      this.pos[c] = at;
      at = child;
    }
    heap[at] = slot;
    this.pos[slot] = at;
  }

  private grow(): void {
    if (this.capacity >= this.maxPending) {
      throw new SimError(
        'ERR_QUEUE_FULL',
        `more than ${this.maxPending} pending events (raise maxPendingEvents if the workload needs it)`,
      );
    }
    const next = Math.min(this.capacity * 2, this.maxPending);
    const grown = (a: Int32Array): Int32Array => {
      const b = new Int32Array(next);
      b.set(a);
      return b;
    };
    const grownF = (a: Float64Array): Float64Array => {
      const b = new Float64Array(next);
      b.set(a);
      return b;
    };
    this.heap = grown(this.heap);
    this.pos = grown(this.pos);
    this.free = grown(this.free);
    this.time = grownF(this.time);
    this.seq = grownF(this.seq);
    this.capacity = next;
  }
}
