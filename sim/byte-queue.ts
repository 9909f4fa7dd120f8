/**
 * A FIFO of bytes held as a list of chunks, so appending never copies and taking a prefix copies
 * only when it spans chunks. Used for send buffers and receive buffers of simulated connections.
 */
export class ByteQueue {
  private chunks: (Uint8Array | undefined)[] = [];
  private head = 0; // index of the first live chunk
  private tail = 0; // index one past the last live chunk
  private headOffset = 0; // bytes already taken from chunks[head]
  length = 0;

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.tail === this.chunks.length && this.head > 0 && this.head * 2 >= this.tail) {
      // Slide live chunks to the front instead of growing the array without bound.
      this.chunks.copyWithin(0, this.head, this.tail);
      this.chunks.fill(undefined, this.tail - this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
    this.chunks[this.tail++] = bytes;
    this.length += bytes.length;
  }

  /** Removes and returns the first min(n, length) bytes. */
  take(n: number): Uint8Array {
    if (n > this.length) n = this.length;
    if (n === 0) return EMPTY;
    const first = this.chunks[this.head]!;
    const avail = first.length - this.headOffset;
    if (n <= avail) {
      const out = n === first.length ? first : first.subarray(this.headOffset, this.headOffset + n);
      this.advance(n);
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[this.head]!;
      const k = Math.min(n - filled, c.length - this.headOffset);
      out.set(c.subarray(this.headOffset, this.headOffset + k), filled);
      filled += k;
      this.advance(k);
    }
    return out;
  }

  /** Removes and returns the first whole chunk (or what is left of it). */
  shiftChunk(): Uint8Array | undefined {
    if (this.head === this.tail) return undefined;
    const c = this.chunks[this.head]!;
    const out = this.headOffset === 0 ? c : c.subarray(this.headOffset);
    this.advance(out.length);
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.tail = 0;
    this.headOffset = 0;
    this.length = 0;
  }

  private advance(n: number): void {
    this.length -= n;
    this.headOffset += n;
    if (this.headOffset === this.chunks[this.head]!.length) {
      this.chunks[this.head] = undefined; // let the chunk be collected
      this.headOffset = 0;
      this.head++;
      if (this.head === this.tail) {
        this.head = 0;
        this.tail = 0;
      }
    }
  }
}

const EMPTY = new Uint8Array(0);
