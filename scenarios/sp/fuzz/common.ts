/**
 * Pieces the targets share: the throwable a callback or allocator uses to stop a decoder with a
 * finding, a pooled allocator that checks every request against the receive limit, and big-endian
 * byte patterns.
 */
import { concatBytes, encodeU32 } from '../../../impl/runtime/bytes.js';
import type { Allocator } from '../../../impl/sp/wire/frames.js';
import type { Finding, OracleId } from '../../../fuzz/target.js';

/** Thrown from inside the code under test (onFrame, alloc) to stop it with a finding. */
export class FindingSignal extends Error {
  override readonly name = 'FindingSignal';
  constructor(readonly finding: Finding) {
    super(finding.message);
  }
}

export function signal(oracle: OracleId, message: string): FindingSignal {
  return new FindingSignal({ oracle, message });
}

/** Thrown by the pool when a legitimate allocation does not fit: the exec is skipped, not judged. */
export class AllocRefused extends Error {
  override readonly name = 'AllocRefused';
}
const ALLOC_REFUSED = new AllocRefused('allocation larger than the fuzz pool');

/** Bytes the pool hands out per pass: a 1 MiB frame (the default limit) plus room for growth. */
export const POOL_BYTES = 4 * 1024 * 1024;

/**
 * An Allocator that judges every request (oracles alloc-invalid and alloc-over-limit) and serves
 * the legitimate ones from one preallocated pool, so a 1 MiB body costs no fresh memory per exec.
 * `reset` starts a pass: the bound is the receive limit, or (unlimited) the largest length the
 * model accepted; more than `maxRequests` requests is the hang oracle.
 */
export class CheckingPool implements Allocator {
  private readonly pool = new Uint8Array(POOL_BYTES);
  private used = 0;
  private boundBytes = 0;
  private limitText = '';
  private maxRequests = Number.MAX_SAFE_INTEGER;
  requests = 0;
  /** The first finding of the pass (kept: a pipe swallows what the decoder throws). */
  finding: Finding | null = null;
  /** True when a legitimate request did not fit the pool (the exec cannot be judged). */
  refused = false;
  /** log2 of the largest request of the pass (for coverage), -1 when none. */
  largestLog2 = -1;

  reset(boundBytes: number, limitText: string, maxRequests = Number.MAX_SAFE_INTEGER): void {
    this.maxRequests = maxRequests;
    this.used = 0;
    this.boundBytes = boundBytes;
    this.limitText = limitText;
    this.requests = 0;
    this.largestLog2 = -1;
    this.finding = null;
    this.refused = false;
  }

  private fail(oracle: OracleId, message: string): FindingSignal {
    const s = signal(oracle, message);
    this.finding ??= s.finding;
    return s;
  }

  alloc(bytes: number): Uint8Array {
    if (++this.requests > this.maxRequests)
      throw this.fail('hang', `more than ${this.maxRequests} allocations in one pass`);
    if (bytes > this.boundBytes) {
      throw this.fail(
        'alloc-over-limit',
        `asked the allocator for ${formatBytes(bytes)} bytes, above ${this.limitText} (${this.boundBytes})`,
      );
    }
    if (!Number.isSafeInteger(bytes) || bytes < 0)
      throw this.fail('alloc-invalid', `asked the allocator for ${formatBytes(bytes)} bytes`);
    const log2 = bytes === 0 ? 0 : 32 - Math.clz32(Math.min(bytes, 0xffffffff));
    if (log2 > this.largestLog2) this.largestLog2 = log2;
    if (bytes > POOL_BYTES - this.used) {
      this.refused = true;
      throw ALLOC_REFUSED;
    }
    const out = this.pool.subarray(this.used, this.used + bytes);
    this.used += bytes;
    return out;
  }
}

export function formatBytes(n: number): string {
  return Number.isSafeInteger(n) || !Number.isFinite(n)
    ? String(n)
    : `${n} (~2^${Math.log2(Math.abs(n)).toFixed(2)})`;
}

/** The 8 big-endian bytes of a u64 given as a bigint. */
export function u64Bytes(n: bigint): Uint8Array {
  const out = new Uint8Array(8);
  for (let i = 7; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** A big-endian u32 (impl/runtime/bytes.ts). */
export const u32Bytes = encodeU32;

/** The parts joined into a fresh array (impl/runtime/bytes.ts concatBytes, as a variadic call). */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

/** Bytes i and j of a and b equal over `n` bytes. */
export function sameBytes(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[ai + k] !== b[bi + k]) return false;
  return true;
}
