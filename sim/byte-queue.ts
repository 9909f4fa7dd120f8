/**
 * A FIFO of bytes held as a list of chunks, so appending never copies and taking a prefix copies
 * only when it spans chunks. Used for send buffers and receive buffers of simulated connections.
 */
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // index of the first live chunk
  private headOffset = 0; // bytes already taken from chunks[head]
  length = 0;

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  /** Removes and returns the first min(n, length) bytes. */
  take(n: number): Uint8Array {
    n = Math.min(n, this.length);
    const first = this.chunks[this.head];
    if (first === undefined || n === 0) return new Uint8Array(0);
    const avail = first.length - this.headOffset;
    if (n <= avail) {
      const out = first.subarray(this.headOffset, this.headOffset + n);
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
    const c = this.chunks[this.head];
    if (c === undefined) return undefined;
    const out = this.headOffset === 0 ? c : c.subarray(this.headOffset);
    this.advance(out.length);
    return out;
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.headOffset = 0;
    this.length = 0;
  }

  private advance(n: number): void {
    this.length -= n;
    this.headOffset += n;
    const c = this.chunks[this.head]!;
    if (this.headOffset === c.length) {
      this.headOffset = 0;
      this.head++;
      // Compact now and then so the array does not grow without bound.
      if (this.head > 64 && this.head * 2 > this.chunks.length) {
        this.chunks = this.chunks.slice(this.head);
        this.head = 0;
      }
      if (this.head === this.chunks.length) {
        this.chunks.length = 0;
        this.head = 0;
      }
    }
  }
}
