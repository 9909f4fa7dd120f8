/**
 * The reactor's page pool: fixed-size byte pages that the link buffers (link-buffer.ts) take for
 * output and for the one copy a straddling read needs, and give back on release, so a connection in
 * steady state allocates nothing per frame (the LinkBuffer benchmark reads `stats.allocatedPages`).
 *
 * Checking mode (`poison: true`, on in tests and in the lab): a page given back is filled with
 * POISON_BYTE and waits in a FIFO quarantine before it can be taken again, so a view kept past
 * release() reads 0xDB instead of another connection's reused bytes (issue 19, "Bad input").
 * Isomorphic: no node: imports, bytes are Uint8Array.
 */
import { ReactorError } from './errors.js';

/** Default page size in bytes: netpoll's LinkBuffer page (8 KiB). */
export const DEFAULT_PAGE_BYTES = 8192;
/** Smallest page size in bytes: below this the per-page bookkeeping dominates. */
export const MIN_PAGE_BYTES = 64;
/** Largest page size in bytes (1 MiB): a page is the unit of one straddle copy. */
export const MAX_PAGE_BYTES = 1024 * 1024;
/** Default bound on free pages kept for reuse (8 MiB at the default page size). */
export const DEFAULT_MAX_POOLED_PAGES = 1024;
/** Upper bound of the maxPooledPages option. */
export const MAX_MAX_POOLED_PAGES = 1_000_000;
/** Default checking mode: off in production, the lab and the tests turn it on. */
export const DEFAULT_POISON = false;
/** Default quarantine length in pages (checking mode only). */
export const DEFAULT_QUARANTINE_PAGES = 64;
/** The byte a released page (or adopted input chunk) is filled with in checking mode. */
export const POISON_BYTE = 0xdb;
/** Free large buffers a pool keeps for reuse, in bytes in total (beyond, given ones are dropped). */
export const MAX_POOLED_LARGE_BYTES = 16 * 1024 * 1024;

/** Largest one-off array alloc() hands out (1 GiB): anything above is a caller bug or an attack. */
export const MAX_ALLOC_BYTES = 1024 * 1024 * 1024;

export interface PagePoolOptions {
  /** Page size in bytes, an integer in [64, 1 MiB]. Default 8192. */
  pageBytes?: number;
  /** Free pages kept for reuse, an integer in [0, 1 000 000]; pages given beyond it are dropped. Default 1024. */
  maxPooledPages?: number;
  /** Checking mode: poison and quarantine given pages. Default false. */
  poison?: boolean;
  /** Pages held in quarantine (checking mode) before they can be taken again, an integer ≥ 0. Default 64. */
  quarantinePages?: number;
}

/** A snapshot of the pool's counters. */
export interface PagePoolStats {
  /** Fresh page allocations ever (the benchmark's "allocations per frame" reads it). */
  allocatedPages: number;
  /** take() calls served from the free list. */
  reusedTakes: number;
  /** Pages taken and not yet given back. */
  outstandingPages: number;
  /** Free pages ready to be taken. */
  pooledPages: number;
  /** Given pages waiting in quarantine (checking mode). */
  quarantinedPages: number;
  /** Given pages dropped because the free list was full. */
  droppedPages: number;
  /** alloc() calls (requests larger than a page; never pooled). */
  oversizeAllocations: number;
  /** Bytes handed out by alloc(). */
  oversizeBytes: number;
  /** Fresh large buffers allocated by takeLarge() (straddle copies above a page). */
  largeAllocations: number;
  /** takeLarge() calls served by a reused buffer. */
  largeReusedTakes: number;
  /** Large buffers out now. */
  outstandingLarge: number;
}

/** True when `view` is non-empty and every byte is POISON_BYTE (an empty view proves nothing). */
export function isPoisoned(view: Uint8Array): boolean {
  if (view.length === 0) return false;
  for (let i = 0; i < view.length; i++) if (view[i] !== POISON_BYTE) return false;
  return true;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer in [${min}, ${max}]`;
    throw new ReactorError('ErrBadOption', `${name} must be ${range}, got ${String(value)}`);
  }
  return value;
}

/** Fixed-size pages with reuse, a bound on free pages, and a poisoning checking mode. */
export class PagePool {
  readonly pageBytes: number;
  readonly maxPooledPages: number;
  /** Checking mode: given pages (and, in link-buffer.ts, dropped input chunks) are filled with POISON_BYTE. */
  readonly poison: boolean;
  readonly quarantinePages: number;

  private readonly free: Uint8Array[] = [];
  // Given pages in quarantine, oldest first (checking mode only). A plain array: it holds at most
  // quarantinePages + 1 pages (default 64), so Array#shift's copy stays short.
  private readonly quarantine: Uint8Array[] = [];
  // Pages out right now: give() refuses anything else (double give, foreign array) with ErrReleased.
  private readonly outstanding = new Set<Uint8Array>();
  // Pages out, counted; the Set above is kept only in checking mode (see give()).
  private outstandingCount = 0;
  private allocatedPages = 0;
  private reusedTakes = 0;
  private droppedPages = 0;
  private oversizeAllocations = 0;
  private oversizeBytes = 0;
  // Large buffers (straddle copies above a page) by size class, reused after release.
  private readonly freeLarge = new Map<number, Uint8Array[]>();
  private freeLargeBytes = 0;
  private readonly outstandingLarge = new Set<Uint8Array>();
  private largeAllocations = 0;
  private largeReusedTakes = 0;

  /** Throws ReactorError ErrBadOption naming the option, its range and the value when one is out of range. */
  constructor(options: PagePoolOptions = {}) {
    this.pageBytes = checkInteger(
      'pageBytes',
      options.pageBytes ?? DEFAULT_PAGE_BYTES,
      MIN_PAGE_BYTES,
      MAX_PAGE_BYTES,
    );
    this.maxPooledPages = checkInteger(
      'maxPooledPages',
      options.maxPooledPages ?? DEFAULT_MAX_POOLED_PAGES,
      0,
      MAX_MAX_POOLED_PAGES,
    );
    this.quarantinePages = checkInteger(
      'quarantinePages',
      options.quarantinePages ?? DEFAULT_QUARANTINE_PAGES,
      0,
      Number.MAX_SAFE_INTEGER,
    );
    const poison = options.poison ?? DEFAULT_POISON;
    if (typeof poison !== 'boolean') {
      throw new ReactorError('ErrBadOption', `poison must be a boolean, got ${String(poison)}`);
    }
    this.poison = poison;
  }

  /** A page of exactly pageBytes bytes, reused from the free list when one is there, else newly allocated. Its content is unspecified (zeros, old bytes, or poison in checking mode). */
  take(): Uint8Array {
    let page = this.free.pop();
    if (page === undefined) {
      page = new Uint8Array(this.pageBytes);
      this.allocatedPages++;
    } else {
      this.reusedTakes++;
    }
    this.outstandingCount++;
    if (this.poison) this.outstanding.add(page);
    return page;
  }

  /**
   * Gives back a page this pool handed out and that is still out; the caller must not touch it (or any
   * view of it) again. Throws ReactorError ErrReleased for a page given twice or not from this pool
   * (in checking mode; outside it, for an array of the wrong size only).
   * In checking mode the page is poisoned and quarantined; beyond maxPooledPages free pages it is dropped.
   */
  give(page: Uint8Array): void {
    // Only the link buffers give pages back, so a double or foreign give is an internal bug: checked
    // in checking mode (tests, the lab), where the Set of pages out is kept. Outside it, keeping
    // that Set costs a hash-table entry per message on the hot path (the ping-pong benchmark).
    if (this.poison ? !this.outstanding.delete(page) : page.length !== this.pageBytes) {
      throw new ReactorError(
        'ErrReleased',
        `page given back twice / not from this pool (${page.length} bytes, pageBytes ${this.pageBytes})`,
      );
    }
    this.outstandingCount--;
    if (!this.poison) {
      this.keep(page);
      return;
    }
    page.fill(POISON_BYTE);
    this.quarantine.push(page);
    // Non-empty: a page was just pushed.
    if (this.quarantine.length > this.quarantinePages) this.keep(this.quarantine.shift() as Uint8Array);
  }

  private keep(page: Uint8Array): void {
    if (this.free.length < this.maxPooledPages) this.free.push(page);
    else this.droppedPages++;
  }

  /**
   * A one-off zeroed array of `bytes` bytes for a request larger than a page; never pooled (give()
   * refuses it). Throws ErrBadOption for a negative, non-integer or > 1 GiB size.
   */
  alloc(bytes: number): Uint8Array {
    checkInteger('alloc bytes', bytes, 0, MAX_ALLOC_BYTES);
    this.oversizeAllocations++;
    this.oversizeBytes += bytes;
    return new Uint8Array(bytes);
  }

  /**
   * A buffer of at least `bytes` bytes (its length is the size class: the next power of two, at
   * least two pages) for a copy larger than a page, reused after giveLarge() when one of its class
   * is free. Free large buffers are bounded by MAX_POOLED_LARGE_BYTES in total; in checking mode
   * they are poisoned when given back and never reused, so a view kept past release reads poison.
   */
  takeLarge(bytes: number): Uint8Array {
    checkInteger('takeLarge bytes', bytes, 1, MAX_ALLOC_BYTES);
    const classBytes = Math.max(2 * this.pageBytes, 2 ** Math.ceil(Math.log2(bytes)));
    const free = this.freeLarge.get(classBytes);
    let buffer = free?.pop();
    if (buffer === undefined) {
      buffer = new Uint8Array(Math.min(classBytes, MAX_ALLOC_BYTES));
      this.largeAllocations++;
    } else {
      this.freeLargeBytes -= buffer.length;
      this.largeReusedTakes++;
    }
    this.outstandingLarge.add(buffer);
    return buffer;
  }

  /** Gives back a buffer takeLarge() handed out; ErrReleased for one given twice or not from here. */
  giveLarge(buffer: Uint8Array): void {
    if (!this.outstandingLarge.delete(buffer))
      throw new ReactorError(
        'ErrReleased',
        `large buffer given back twice / not from this pool (${buffer.length} bytes)`,
      );
    if (this.poison) {
      buffer.fill(POISON_BYTE);
      return;
    }
    if (this.freeLargeBytes + buffer.length > MAX_POOLED_LARGE_BYTES) return;
    let free = this.freeLarge.get(buffer.length);
    if (free === undefined) {
      free = [];
      this.freeLarge.set(buffer.length, free);
    }
    free.push(buffer);
    this.freeLargeBytes += buffer.length;
  }

  /** Same as the exported isPoisoned(view): non-empty and every byte POISON_BYTE. */
  isPoisoned(view: Uint8Array): boolean {
    return isPoisoned(view);
  }

  /** A read-only snapshot of the counters. */
  get stats(): Readonly<PagePoolStats> {
    return {
      allocatedPages: this.allocatedPages,
      reusedTakes: this.reusedTakes,
      outstandingPages: this.outstandingCount,
      pooledPages: this.free.length,
      quarantinedPages: this.quarantine.length,
      droppedPages: this.droppedPages,
      oversizeAllocations: this.oversizeAllocations,
      oversizeBytes: this.oversizeBytes,
      largeAllocations: this.largeAllocations,
      largeReusedTakes: this.largeReusedTakes,
      outstandingLarge: this.outstandingLarge.size,
    };
  }
}
