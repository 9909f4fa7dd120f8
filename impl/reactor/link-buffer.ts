/**
 * The reactor's link buffers (netpoll's LinkBuffer, issue 19 item 2): InputBuffer is what a handler
 * reads, OutputBuffer what it writes and what the connection drains into the socket.
 *
 * Input is zero copy: chunks the runtime hands over are adopted (StreamConn onData: "the callee owns
 * the array"), a read inside one chunk returns a subarray, and a read that straddles chunks copies
 * once, into a pool page (or a one-off array above a page) held until release. Read chunks are kept
 * until release() so the views a handler got stay valid while it parses; a LinkSlice keeps the
 * chunks it covers alive until its own release. In checking mode (pool.poison) dropped chunks and
 * pages are filled with POISON_BYTE, so a view kept past release reads 0xDB instead of reused bytes.
 *
 * Output is written into pool pages (or appended without copy with writeOwned), committed, and handed
 * to the socket run by run (peekSend / ack), so it leaves in order, exactly once.
 * Isomorphic: no node: imports, no clock.
 */
import { assert } from '../runtime/assert.js';
import { ReactorError } from './errors.js';
import { MAX_ALLOC_BYTES, POISON_BYTE, type PagePool } from './pages.js';

/** The largest n malloc() accepts (1 GiB): above it is a caller bug, refused with ErrBadOption. */
export const MAX_MALLOC_BYTES = MAX_ALLOC_BYTES;

// One shared empty view: zero-length reads allocate nothing.
const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();
// A UTF-16 code unit encodes to at most 3 UTF-8 bytes (a surrogate pair: 2 units, 4 bytes).
const MAX_UTF8_BYTES_PER_UNIT = 3;

function closedError(what: string): ReactorError {
  return new ReactorError('ErrConnClosed', `${what}: the buffer is closed`);
}

/** A run of bytes a reader walks: an input chunk, or a view of one inside a slice. */
interface Segment {
  readonly bytes: Uint8Array;
}

/** An adopted input chunk: held while chained (unreleased) or pinned by a live slice. */
interface Chunk extends Segment {
  /** Live slices covering some of its bytes. */
  pins: number;
  /** Still in the InputBuffer's chain (not yet dropped by release() or close()). */
  chained: boolean;
}

/**
 * Destinations for straddle copies: pool pages filled bump-style (several small copies share a page),
 * pooled large buffers above a page; all held until release, so the views stay valid until then.
 */
class CopyArena {
  private pages: Uint8Array[] = [];
  private large: Uint8Array[] = [];
  private usedBytes = 0; // bytes used in the last page
  /** Memory this arena holds, in bytes: whole pages plus one-off arrays. */
  heldBytes = 0;

  constructor(private readonly pool: PagePool) {}

  /** A writable array of exactly n > 0 bytes, valid until releaseAll(). */
  take(n: number): Uint8Array {
    const pageBytes = this.pool.pageBytes;
    if (n > pageBytes) {
      // A reusable buffer of n's size class: a parser of large frames allocates nothing per frame.
      const buffer = this.pool.takeLarge(n);
      this.large.push(buffer);
      this.heldBytes += buffer.length;
      return buffer.subarray(0, n);
    }
    let page = this.pages[this.pages.length - 1];
    if (page === undefined || pageBytes - this.usedBytes < n) {
      page = this.pool.take();
      this.pages.push(page);
      this.usedBytes = 0;
      this.heldBytes += pageBytes;
    }
    const dest = page.subarray(this.usedBytes, this.usedBytes + n);
    this.usedBytes += n;
    return dest;
  }

  /** Gives every page back (poisoned in checking mode); views of them are invalid afterwards. */
  releaseAll(): void {
    if (this.heldBytes === 0) return; // the common case on a per-frame release: allocate nothing
    for (const page of this.pages) this.pool.give(page);
    for (const buffer of this.large) this.pool.giveLarge(buffer);
    this.pages = [];
    this.large = [];
    this.usedBytes = 0;
    this.heldBytes = 0;
  }
}

/**
 * The read methods InputBuffer and LinkSlice share, over a sequence of segments with a read position
 * (segment index `head`, offset `offset`). Invariant: when unread bytes remain, segs[head] holds the
 * next one (offset < its length); segments are never empty.
 */
abstract class SegmentReader {
  protected segs: Segment[] = [];
  protected head = 0;
  protected offset = 0;
  protected unread = 0;
  protected readonly copies: CopyArena;

  constructor(protected readonly pool: PagePool) {
    this.copies = new CopyArena(pool);
  }

  /** Throws the typed error for a reader that can no longer be read (closed, released). */
  protected abstract checkReadable(): void;

  /** Unread bytes. */
  get length(): number {
    return this.unread;
  }

  /** Bytes held by straddle copies (pool pages and one-off arrays) until release. */
  get copyBytes(): number {
    return this.copies.heldBytes;
  }

  /** A view of the next n bytes; the position is unchanged. ErrNotEnough when n is not an integer in [0, length]. */
  peek(n: number): Uint8Array {
    this.checkCount(n);
    return this.view(n);
  }

  /** A view of the next n bytes, advancing past them. ErrNotEnough when n is not an integer in [0, length]. */
  next(n: number): Uint8Array {
    this.checkCount(n);
    const v = this.view(n);
    this.advance(n);
    return v;
  }

  /** Advances past the next n bytes. ErrNotEnough when n is not an integer in [0, length]. */
  skip(n: number): void {
    this.checkCount(n);
    this.advance(n);
  }

  /** Offset from the read position of the first byte equal to `delimiter`, or -1 when none is buffered. */
  indexOf(delimiter: number): number {
    this.checkReadable();
    let base = 0;
    let from = this.offset;
    for (let i = this.head; i < this.segs.length; i++) {
      const bytes = this.segAt(i).bytes;
      const at = bytes.indexOf(delimiter, from);
      if (at >= 0) return base + at - from;
      base += bytes.length - from;
      from = 0;
    }
    return -1;
  }

  /** A view of the bytes up to and including the first `delimiter`, advancing; null (position unchanged) when none is buffered. */
  until(delimiter: number): Uint8Array | null {
    const at = this.indexOf(delimiter);
    return at < 0 ? null : this.next(at + 1);
  }

  /** A fresh copy of the next n bytes that the caller owns (it survives release), advancing. */
  readBytes(n: number): Uint8Array {
    this.checkCount(n);
    const out = new Uint8Array(n);
    this.copyTo(out, n);
    this.advance(n);
    return out;
  }

  /** The next n bytes decoded as UTF-8 (malformed sequences become U+FFFD), advancing. No copy: decoded in place. */
  readString(n: number): string {
    this.checkCount(n);
    if (n === 0) return '';
    const first = this.segAt(this.head).bytes;
    if (first.length - this.offset >= n) {
      const s = decoder.decode(first.subarray(this.offset, this.offset + n));
      this.advance(n);
      return s;
    }
    // Straddles: stream-decode segment by segment, so a character split across chunks decodes whole.
    let s = '';
    let left = n;
    let i = this.head;
    let from = this.offset;
    while (left > 0) {
      const bytes = this.segAt(i++).bytes;
      const take = Math.min(left, bytes.length - from);
      s += decoder.decode(bytes.subarray(from, from + take), { stream: true });
      left -= take;
      from = 0;
    }
    s += decoder.decode();
    this.advance(n);
    return s;
  }

  /** The next byte, advancing. ErrNotEnough when none is buffered. */
  readU8(): number {
    return this.readUint(1);
  }

  /** The next 2 bytes as a big-endian unsigned integer, advancing (works across a chunk boundary, no allocation). */
  readU16BE(): number {
    return this.readUint(2);
  }

  /** The next 4 bytes as a big-endian unsigned integer, advancing (works across a chunk boundary, no allocation). */
  readU32BE(): number {
    return this.readUint(4);
  }

  /** The next 4 bytes as a big-endian unsigned integer, position unchanged. */
  peekU32BE(): number {
    this.checkCount(4);
    return this.peekUint(4);
  }

  private readUint(count: number): number {
    this.checkCount(count);
    const v = this.peekUint(count);
    this.advance(count);
    return v;
  }

  private peekUint(count: number): number {
    let i = this.head;
    let at = this.offset;
    let bytes = this.segAt(i).bytes;
    if (bytes.length - at >= count) {
      // Fast path (framing parsers call this per frame): all bytes in the head segment.
      let v = 0;
      for (let k = 0; k < count; k++) v = v * 256 + (bytes[at + k] ?? 0);
      return v;
    }
    let v = 0;
    for (let k = 0; k < count; k++) {
      if (at === bytes.length) {
        bytes = this.segAt(++i).bytes;
        at = 0;
      }
      // Multiply, not shift: a shift would turn a top bit into a negative number.
      v = v * 256 + (bytes[at++] ?? 0);
    }
    return v;
  }

  protected segAt(i: number): Segment {
    const seg = this.segs[i];
    assert(seg !== undefined, 'a reader walks only segments it holds');
    return seg;
  }

  /** Checks the reader is usable and 0 ≤ n ≤ length, n an integer: else the typed error. */
  protected checkCount(n: number): void {
    this.checkReadable();
    if (!Number.isInteger(n) || n < 0 || n > this.unread) {
      throw new ReactorError('ErrNotEnough', `asked ${String(n)}, ${this.unread} buffered`);
    }
  }

  /** A view of the next n ≤ length bytes: a subarray inside one segment, else exactly one copy. */
  protected view(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    const first = this.segAt(this.head).bytes;
    // A read of exactly one whole chunk (an echo, a frame per read) returns it: no view to make.
    if (this.offset === 0 && first.length === n) return first;
    if (first.length - this.offset >= n) return first.subarray(this.offset, this.offset + n);
    const dest = this.copies.take(n);
    this.copyTo(dest, n);
    return dest;
  }

  /** Copies the next n ≤ length bytes into dest, position unchanged. */
  private copyTo(dest: Uint8Array, n: number): void {
    let done = 0;
    let i = this.head;
    let from = this.offset;
    while (done < n) {
      const bytes = this.segAt(i++).bytes;
      const take = Math.min(n - done, bytes.length - from);
      dest.set(bytes.subarray(from, from + take), done);
      done += take;
      from = 0;
    }
  }

  /** Moves the read position n ≤ length bytes on, keeping the head invariant. */
  protected advance(n: number): void {
    this.unread -= n;
    let left = n;
    while (left > 0) {
      const room = this.segAt(this.head).bytes.length - this.offset;
      if (left < room) {
        this.offset += left;
        return;
      }
      left -= room;
      this.head++;
      this.offset = 0;
    }
  }
}

/** Options of an InputBuffer. */
export interface InputBufferOptions {
  /** Bound on heldBytes (unread + read-unreleased + slice-pinned chunk bytes); an integer ≥ 0. Required: the connection passes maxInputBytes. */
  maxBytes: number;
}

/**
 * The input side of a connection (netpoll's Reader). Views returned by peek/next/until and slice
 * bytes are valid until the next release() (or close()): afterwards they may read poison (checking
 * mode) or nothing meaningful. The bytes of a chunk not yet fully read stay valid while unread.
 *
 * Bound: the chain of chunks is bounded by maxBytes in bytes (empty chunks are never stored, so at
 * most maxBytes chunks), hence no separate bound on the chunk count.
 */
export class InputBuffer extends SegmentReader {
  readonly maxBytes: number;
  // segs holds Chunks: [base, head) read and unreleased, [head, end) unread.
  declare protected segs: Chunk[];
  private base = 0;
  private held = 0;
  private closed = false;
  private peerEnded = false;

  /** Throws ErrBadOption when maxBytes is not a non-negative integer. */
  constructor(pool: PagePool, options: InputBufferOptions) {
    super(pool);
    const { maxBytes } = options;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new ReactorError('ErrBadOption', `maxBytes must be an integer ≥ 0, got ${String(maxBytes)}`);
    }
    this.maxBytes = maxBytes;
  }

  /**
   * Bytes of input chunks still held: unread, read but not released, and kept alive by live slices.
   * This is what maxBytes bounds. Straddle copies are not in it (they are the handler's doing, not
   * the peer's, and go at release): see copyBytes.
   */
  get heldBytes(): number {
    return this.held;
  }

  /** True once end() was called: the peer half-closed, no more input will come. */
  get ended(): boolean {
    return this.peerEnded;
  }

  /** True once close() was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Adopts `chunk` without copy (the caller must not touch it again). Empty chunks are ignored.
   * Throws ErrInputOverflow (storing nothing) when heldBytes + chunk.length > maxBytes, and
   * ErrConnClosed after end() or close().
   */
  append(chunk: Uint8Array): void {
    if (this.closed) throw closedError('append');
    if (this.peerEnded)
      throw new ReactorError('ErrConnClosed', 'append: the input has ended (peer half-closed)');
    if (chunk.length === 0) return;
    if (this.held + chunk.length > this.maxBytes) {
      throw new ReactorError(
        'ErrInputOverflow',
        `a chunk of ${chunk.length} bytes on ${this.held} held (${this.unread} unread) exceeds maxBytes ${this.maxBytes}`,
      );
    }
    this.segs.push({ bytes: chunk, pins: 0, chained: true });
    this.unread += chunk.length;
    this.held += chunk.length;
  }

  /** Marks the input ended (the peer half-closed): later appends throw ErrConnClosed; buffered bytes stay readable. Idempotent. */
  end(): void {
    this.peerEnded = true;
  }

  /**
   * A LinkSlice over the next n bytes, advancing: it reads them like this buffer does and keeps the
   * chunks it covers alive until its own release(), across this buffer's release() and close().
   */
  slice(n: number): LinkSlice {
    this.checkCount(n);
    const views: Segment[] = [];
    const pinned: Chunk[] = [];
    let left = n;
    let i = this.head;
    let from = this.offset;
    while (left > 0) {
      const chunk = this.segs[i++];
      assert(chunk !== undefined, 'a slice covers only buffered chunks');
      const take = Math.min(left, chunk.bytes.length - from);
      views.push({ bytes: chunk.bytes.subarray(from, from + take) });
      chunk.pins++;
      pinned.push(chunk);
      left -= take;
      from = 0;
    }
    this.advance(n);
    return new LinkSlice(this.pool, views, pinned, (c) => this.unpin(c));
  }

  /**
   * Drops everything already read that no live slice covers: adopted chunks are dropped (poisoned first
   * in checking mode), straddle-copy pages go back to the pool. Every view returned before is invalid
   * afterwards, except the unread part of a partly read chunk. A no-op after close().
   */
  release(): void {
    // After close() too: close leaves no chunk and no copy, so this returns at once.
    if (this.base === this.head && this.copies.heldBytes === 0) return; // nothing to drop
    for (let i = this.base; i < this.head; i++) this.unchain(this.chunkAt(i));
    this.base = this.head;
    // Compact the consumed prefix once it is the larger half: O(1) amortized per chunk.
    if (this.base > 32 && this.base * 2 > this.segs.length) {
      this.segs = this.segs.slice(this.base);
      this.head -= this.base;
      this.base = 0;
    }
    this.copies.releaseAll();
  }

  /** Drops everything, unread bytes included; later reads and appends throw ErrConnClosed. Live slices stay valid until their own release. Idempotent. */
  close(): void {
    // A second close walks an empty chain: nothing to guard.
    this.closed = true;
    for (let i = this.base; i < this.segs.length; i++) this.unchain(this.chunkAt(i));
    this.segs = [];
    this.base = this.head = this.offset = this.unread = 0;
    this.copies.releaseAll();
  }

  protected checkReadable(): void {
    if (this.closed) throw closedError('read');
  }

  private chunkAt(i: number): Chunk {
    const chunk = this.segs[i];
    assert(chunk !== undefined, 'release and close walk only chained chunks');
    return chunk;
  }

  private unchain(chunk: Chunk): void {
    chunk.chained = false;
    if (chunk.pins === 0) this.drop(chunk);
  }

  private unpin(chunk: Chunk): void {
    assert(chunk.pins > 0, 'a slice unpins only chunks it pinned');
    chunk.pins--;
    if (chunk.pins === 0 && !chunk.chained) this.drop(chunk);
  }

  private drop(chunk: Chunk): void {
    this.held -= chunk.bytes.length;
    assert(this.held >= 0, 'held input bytes are conserved');
    // We own adopted chunks, so poisoning them is safe and makes a view kept past release visible.
    if (this.pool.poison) chunk.bytes.fill(POISON_BYTE);
  }
}

/**
 * A view over n input bytes taken with InputBuffer.slice(n): the same read methods, plus bytes().
 * It keeps the chunks it covers alive until release(); release twice, or any read after it, throws
 * ErrReleased. Views it returns are valid until its release().
 */
export class LinkSlice extends SegmentReader {
  private released = false;

  /** @internal Built by InputBuffer.slice. */
  constructor(
    pool: PagePool,
    views: Segment[],
    private pinned: Chunk[],
    private readonly unpin: (chunk: Chunk) => void,
  ) {
    super(pool);
    this.segs = views;
    for (const v of views) this.unread += v.bytes.length;
  }

  /** True once release() was called. */
  get isReleased(): boolean {
    return this.released;
  }

  /** A view of everything unread in the slice, position unchanged: one copy only if it straddles chunks. */
  bytes(): Uint8Array {
    this.checkReadable();
    return this.view(this.unread);
  }

  /** Lets go of the chunks it covers (dropped if the buffer released them already) and its copy pages. ErrReleased when called twice. */
  release(): void {
    if (this.released) throw new ReactorError('ErrReleased', 'slice released twice');
    this.released = true;
    for (const chunk of this.pinned) this.unpin(chunk);
    this.pinned = [];
    this.segs = [];
    this.head = this.offset = this.unread = 0;
    this.copies.releaseAll();
  }

  protected checkReadable(): void {
    if (this.released) throw new ReactorError('ErrReleased', 'read from a released slice');
  }
}

/** A page being written: `filledBytes` written so far, `sentBytes` of them acked by the socket. */
interface OutPage {
  readonly bytes: Uint8Array;
  filledBytes: number;
  sentBytes: number;
}

/** A contiguous run of output: part of a page, or a whole owned / one-off array (page null). */
interface Run {
  readonly page: OutPage | null;
  readonly bytes: Uint8Array;
  start: number;
  end: number;
}

/**
 * The output side of a connection (netpoll's Writer plus the send queue). Writes go into pool pages
 * (or are appended without copy by writeOwned), become sendable at commit(), and the connection
 * drains them with peekSend / StreamConn.write / ack, so output leaves in order, exactly once.
 * Bound: none here; the connection bounds unsentBytes with outputHighWaterBytes.
 */
export class OutputBuffer {
  // Uncommitted runs, in write order.
  private pending: Run[] = [];
  // Committed, unsent runs from index sendHead on.
  private queue: Run[] = [];
  private sendHead = 0;
  // The page small writes go into; null when none is open.
  private tail: OutPage | null = null;
  private buffered = 0;
  private unsent = 0;
  private closed = false;

  constructor(private readonly pool: PagePool) {}

  /** Bytes written and not yet committed. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Bytes committed and not yet accepted by the socket (acked). */
  get unsentBytes(): number {
    return this.unsent;
  }

  /** True once close() was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * A writable view of n bytes that becomes output at the next commit(); the caller fills it before.
   * n ≤ pageBytes: inside the tail page if it has room, else a new page; larger: a one-off array.
   * ErrBadOption for n negative, non-integer or above 1 GiB; ErrConnClosed after close().
   */
  malloc(n: number): Uint8Array {
    this.checkWritable('malloc');
    if (!Number.isInteger(n) || n < 0 || n > MAX_MALLOC_BYTES) {
      throw new ReactorError(
        'ErrBadOption',
        `malloc n must be an integer in [0, ${MAX_MALLOC_BYTES}], got ${String(n)}`,
      );
    }
    if (n === 0) return EMPTY;
    if (n > this.pool.pageBytes) {
      const bytes = this.pool.alloc(n);
      this.pushPending({ page: null, bytes, start: 0, end: n });
      return bytes;
    }
    if (this.tail === null || this.pool.pageBytes - this.tail.filledBytes < n) this.openPage();
    const start = this.claimTail(n);
    return (this.tail as OutPage).bytes.subarray(start, start + n);
  }

  /** Copies `bytes` into pages (spanning pages as needed); output at the next commit(). ErrConnClosed after close(). */
  writeBytes(bytes: Uint8Array): void {
    this.checkWritable('writeBytes');
    let done = 0;
    while (done < bytes.length) {
      if (this.tail === null || this.tail.filledBytes === this.pool.pageBytes) this.openPage();
      const tail = this.tail as OutPage;
      const take = Math.min(bytes.length - done, this.pool.pageBytes - tail.filledBytes);
      // Copied at an offset: a write that fits whole makes no view, neither of bytes nor of the page.
      tail.bytes.set(take === bytes.length ? bytes : bytes.subarray(done, done + take), this.claimTail(take));
      done += take;
    }
  }

  /** UTF-8 encodes `s` into pages; output at the next commit(). ErrConnClosed after close(). */
  writeString(s: string): void {
    this.checkWritable('writeString');
    if (s.length === 0) return;
    const tail = this.tail;
    if (tail !== null && s.length * MAX_UTF8_BYTES_PER_UNIT <= this.pool.pageBytes - tail.filledBytes) {
      // Fits for sure: encode straight into the page, no temporary array.
      const { written } = encoder.encodeInto(s, tail.bytes.subarray(tail.filledBytes));
      this.claimTail(written);
      return;
    }
    // Long string or little room: one temporary encoding, then copied across pages.
    this.writeBytes(encoder.encode(s));
  }

  /** Appends the caller's array without copy; the caller promises not to change it. Output at the next commit(). */
  writeOwned(bytes: Uint8Array): void {
    this.checkWritable('writeOwned');
    if (bytes.length === 0) return;
    this.pushPending({ page: null, bytes, start: 0, end: bytes.length });
  }

  /** Moves everything written so far to the send queue (bufferedBytes → unsentBytes). ErrConnClosed after close(). */
  commit(): void {
    this.checkWritable('commit');
    for (const run of this.pending) {
      const last = this.queue[this.queue.length - 1];
      // Merge a run continuing the last queued one on the same page: fewer, longer socket writes.
      if (
        last !== undefined &&
        this.queue.length > this.sendHead &&
        run.page !== null &&
        last.page === run.page &&
        last.end === run.start
      ) {
        last.end = run.end;
      } else {
        this.queue.push(run);
      }
    }
    this.unsent += this.buffered;
    this.buffered = 0;
    this.pending = [];
  }

  /** A view of the first unsent contiguous run (for StreamConn.write, which copies what it accepts), or undefined when nothing is unsent. */
  peekSend(): Uint8Array | undefined {
    const run = this.queue[this.sendHead];
    return run === undefined ? undefined : run.bytes.subarray(run.start, run.end);
  }

  /**
   * Records that the socket accepted the first n bytes of the run peekSend() returned: advances,
   * and gives back pages fully sent. n beyond that run is an internal bug (assertion).
   */
  ack(n: number): void {
    if (n === 0) return;
    const run = this.queue[this.sendHead];
    assert(
      run !== undefined && Number.isInteger(n) && n > 0 && n <= run.end - run.start,
      'ack covers at most the run peekSend returned',
    );
    run.start += n;
    this.unsent -= n;
    const page = run.page;
    if (page !== null) {
      page.sentBytes += n;
      if (page.sentBytes === page.filledBytes) {
        // Everything written to it is sent: free it, even the tail (an idle connection holds no page).
        if (page === this.tail) this.tail = null;
        this.pool.give(page.bytes);
      }
    }
    if (run.start === run.end) this.shiftRun();
  }

  /**
   * Returns every page, drops all output; later writes throw ErrConnClosed. Returns the unsent +
   * uncommitted bytes it dropped (the connection accounts for them); 0 when already closed.
   */
  close(): number {
    // A second close finds nothing left to drop: it returns 0 without a guard.
    this.closed = true;
    // The pages of unsent and uncommitted runs. The tail page is among them: a tail with nothing
    // left to send was given back by ack() already (see openPage).
    const pages = new Set<OutPage>();
    for (const run of [...this.queue.slice(this.sendHead), ...this.pending]) {
      if (run.page !== null) pages.add(run.page);
    }
    for (const page of pages) this.pool.give(page.bytes);
    const dropped = this.unsent + this.buffered;
    this.queue = [];
    this.pending = [];
    this.sendHead = 0;
    this.tail = null;
    this.unsent = this.buffered = 0;
    return dropped;
  }

  private checkWritable(what: string): void {
    if (this.closed) throw closedError(what);
  }

  /**
   * Opens a fresh tail page. The old tail (if any) still has unsent bytes: a tail fully sent was given
   * back by ack() already, so the ack that sends its last byte gives it back.
   */
  private openPage(): void {
    const old = this.tail;
    assert(old === null || old.sentBytes < old.filledBytes, 'a fully sent tail page was freed by ack');
    this.tail = { bytes: this.pool.take(), filledBytes: 0, sentBytes: 0 };
  }

  /** Claims the next n bytes of the tail page (room checked by the caller) as pending output; returns where they start. */
  private claimTail(n: number): number {
    const tail = this.tail;
    assert(
      tail !== null && tail.filledBytes + n <= tail.bytes.length,
      'claimTail stays inside the tail page',
    );
    const start = tail.filledBytes;
    tail.filledBytes += n;
    const last = this.pending[this.pending.length - 1];
    if (last !== undefined && last.page === tail && last.end === start) {
      last.end += n;
      this.buffered += n;
    } else {
      this.pushPending({ page: tail, bytes: tail.bytes, start, end: start + n });
    }
    return start;
  }

  private pushPending(run: Run): void {
    this.pending.push(run);
    this.buffered += run.end - run.start;
  }

  private shiftRun(): void {
    this.sendHead++;
    if (this.sendHead > 32 && this.sendHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.sendHead);
      this.sendHead = 0;
    }
  }
}
