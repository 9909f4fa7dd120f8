/**
 * Helpers the framing and handshake families share for raw byte-level peers: building their
 * scripts (SP headers, u64 frames of any length, writes split at drawn points), reading a script
 * back (what a peer wrote, which frames a correct receiver must deliver from it), option values as a
 * scenario configures them, and timing bounds derived from the scenario's network.
 */
import { headerForPeerOf, scenarioOption } from '../reference.js';

export { headerForPeerOf, scenarioOption };
import type { FaultRecord } from '../../../sim/fault-plan.js';
import type { RawPeerSpec, RawStep, Scenario, SocketSpec } from '../model.js';

/** The largest frame length a double holds exactly; netlab rejects longer ones whatever the limit. */
export const MAX_EXACT_LENGTH = 2n ** 53n - 1n;
export const MAX_U64 = 2n ** 64n - 1n;

// The bytes helpers the raw-byte families use, from the one bytes module.
import { concatBytes, fromHex, toHex } from '../../../impl/runtime/bytes.js';

export { concatBytes, fromHex, toHex };

/**
 * A frame header announcing `length` bytes: u64 big-endian, after the 0x01 type byte on ipc. Any
 * u64 is allowed (encodeFrameHeader refuses lengths a correct sender never writes).
 */
export function frameHeader(length: bigint, ipc: boolean): Uint8Array {
  if (length < 0n || length > MAX_U64) throw new RangeError(`frame length ${length} is not a u64`);
  const out = new Uint8Array(ipc ? 9 : 8);
  let o = 0;
  if (ipc) out[o++] = 0x01;
  for (let i = 7; i >= 0; i--) out[o + 7 - i] = Number((length >> BigInt(8 * i)) & 0xffn);
  return out;
}

export function frame(body: Uint8Array, ipc: boolean): Uint8Array {
  return concatBytes([frameHeader(BigInt(body.length), ipc), body]);
}

/**
 * Splits `bytes` into a script of writes: cut at the drawn positions (taken modulo the length, so
 * any integers do), the n-th piece written after `delaysUs[n]` (0 when not drawn).
 */
export function splitWrites(
  bytes: Uint8Array,
  cuts: readonly number[],
  delaysUs: readonly number[],
): RawStep[] {
  if (bytes.length === 0) return [];
  const at = [...new Set(cuts.map((c) => c % bytes.length).filter((c) => c > 0))].sort((a, b) => a - b);
  const bounds = [0, ...at, bytes.length];
  const steps: RawStep[] = [];
  for (let i = 0; i + 1 < bounds.length; i++)
    steps.push({ afterUs: delaysUs[i] ?? 0, write: toHex(bytes.subarray(bounds[i], bounds[i + 1])) });
  return steps;
}

/** Every byte a raw peer's script writes, in order. */
export function scriptBytes(p: RawPeerSpec): Uint8Array {
  return fromHex(p.script.map((s) => ('write' in s ? s.write : '')).join(''));
}

/** True when the peer's own script ends its connection (close or reset). */
export function closesItself(p: RawPeerSpec): boolean {
  return p.script.some((s) => 'action' in s);
}

/** Virtual time from the peer's connection to the script's close or reset (null when it never does). */
export function scriptCloseAfterUs(p: RawPeerSpec): number | null {
  let t = 0;
  for (const s of p.script) {
    t += s.afterUs;
    if ('action' in s) return t;
  }
  return null;
}

export interface ParsedFrames {
  /** Complete frames, in order, before the first bad one or the end of the bytes. */
  frames: Uint8Array[];
  /** Why parsing stopped: the bytes ran out (maybe mid-frame), a length over the limit, a bad ipc type byte. */
  stop: 'end' | 'too-long' | 'bad-type';
}

/**
 * The frames a correct receiver delivers from a byte stream (after the handshake): complete frames
 * up to the first whose length exceeds `limitBytes` or whose ipc type byte is not 0x01.
 */
export function parseFrames(bytes: Uint8Array, ipc: boolean, limitBytes: bigint): ParsedFrames {
  const frames: Uint8Array[] = [];
  let pos = 0;
  const headerBytes = ipc ? 9 : 8;
  while (bytes.length - pos >= headerBytes) {
    if (ipc && bytes[pos] !== 0x01) return { frames, stop: 'bad-type' };
    let length = 0n;
    for (let i = 0; i < 8; i++) length = (length << 8n) | BigInt(bytes[pos + (ipc ? 1 : 0) + i]!);
    if (length > limitBytes) return { frames, stop: 'too-long' };
    const start = pos + headerBytes;
    if (BigInt(bytes.length - start) < length) break;
    frames.push(bytes.subarray(start, start + Number(length)));
    pos = start + Number(length);
  }
  return { frames, stop: 'end' };
}

/** The frame length a socket accepts at most: MAX-RCV-SIZE, or 2^53-1 when that is 0 (unlimited). */
export function receiveLimit(spec: SocketSpec): bigint {
  const max = scenarioOption(spec, 'MAX-RCV-SIZE');
  return max > 0 ? BigInt(max) : MAX_EXACT_LENGTH;
}

/** The socket listening on `address`, if any. */
export function listenerOf(scenario: Scenario, address: string): SocketSpec | undefined {
  return scenario.sockets.find((s) => s.listen.includes(address));
}

/** Bytes a raw peer writes after its 8-byte header (empty when it writes less). */
export function afterHandshake(p: RawPeerSpec): Uint8Array {
  const all = scriptBytes(p);
  return all.length > 8 ? all.subarray(8) : new Uint8Array(0);
}

export function isIpc(address: string): boolean {
  return address.startsWith('ipc://');
}

/**
 * The longest one-way trip a packet takes on the scenario's calm network (no loss, no fault):
 * the latency model's maximum plus the jitter, rounded up as the simulator does. Exponential
 * latency has no maximum: Infinity (timing checks are then not applicable).
 */
export function maxOneWayUs(network: Scenario['network']): number {
  const l = network.latency;
  const base = l.kind === 'constant' ? l.us : l.kind === 'uniform' ? l.maxUs : Number.POSITIVE_INFINITY;
  return Math.ceil(base + network.jitterUs) + 1;
}

/** True when a fault that fired was in force at some time of [fromUs, toUs]. */
export function faultOverlaps(faults: readonly FaultRecord[], fromUs: number, toUs: number): boolean {
  return faults.some((f) => f.startUs !== null && f.startUs <= toUs && (f.endUs ?? Infinity) >= fromUs);
}

/**
 * Why a timing bound over [fromUs, toUs] cannot be judged on this run, or null when it can: it needs
 * a network without random loss (a lost segment waits for its retransmission timeout), a bounded
 * latency model, and no fault in force during the window.
 */
export function timingUnjudgeable(
  scenario: Scenario,
  faults: readonly FaultRecord[],
  fromUs: number,
  toUs: number,
): string | null {
  if (scenario.network.lossRate > 0) return 'the network loses segments (retransmission delays)';
  if (!Number.isFinite(maxOneWayUs(scenario.network))) return 'the latency model is unbounded';
  if (faultOverlaps(faults, fromUs, toUs)) return 'a fault was in force during the window';
  return null;
}
