/**
 * Knobs of the simulated network: per-link latency models, jitter, bandwidth and loss, and
 * per-connection buffer, segmentation, partial-write and retransmission settings. Every knob has a
 * documented default, is validated with a typed error naming the field, and can be printed.
 */
import { SimError } from './errors.js';
import {
  bandwidthSchema,
  jitterUsSchema,
  latencyModelSchema,
  MAX_SIZE_BYTES,
  parseWith,
  probabilitySchema,
} from './fault-limits.js';
import type { KeyedStream } from './rng.js';

/** One-way latency distributions (all in microseconds). */
export type LatencyModel =
  | { kind: 'constant'; us: number }
  | { kind: 'uniform'; minUs: number; maxUs: number }
  /** minUs plus an exponential tail with the given mean. */
  | { kind: 'exponential'; minUs: number; meanUs: number }
  /** FoundationDB sim2 style: `slow` with probability slowProbability (e.g. 0.001), else `fast`. */
  | { kind: 'mixture'; fast: LatencyModel; slow: LatencyModel; slowProbability: number };

/** Bounds of every field: sim/fault-limits.ts (MAX_LATENCY_US, MAX_JITTER_US, MAX_BANDWIDTH_BYTES_PER_SEC). */
export interface LinkConfig {
  /** Default: constant 1000 us. Every value in [0, MAX_LATENCY_US] (10 s), integer µs. */
  latency: LatencyModel;
  /** Extra uniform delay in [0, jitterUs) per segment (default 0; at most MAX_JITTER_US). Order is still preserved. */
  jitterUs: number;
  /** Serialization rate per connection direction in bytes per second; 0 = unlimited (default 0). */
  bandwidthBytesPerSec: number;
  /** Probability that one transmission of a segment is lost and must be retransmitted (default 0). */
  lossRate: number;
}

/** A size that is fixed, or drawn once per connection from [minBytes, maxBytes] (FDB's random send buffer). */
export type SizeSetting = number | { minBytes: number; maxBytes: number };

export interface ConnConfig {
  /** Send buffer (unsent plus unacknowledged bytes); write() accepts only its free space. Default 65536. */
  sendBufferBytes: SizeSetting;
  /** Receive buffer = receive window; when the reader stops, it fills and the sender stalls. Default 65536. */
  recvBufferBytes: SizeSetting;
  /** Largest segment in bytes (default 1460). */
  mssBytes: number;
  /** Segment sizes drawn uniformly in [1, mssBytes], so a frame can be split at any byte (default false). */
  randomChunking: boolean;
  /** Probability that a write accepts only a random prefix even with space free, as FDB's BUGGIFY (default 0). */
  partialWriteProbability: number;
  /** First retransmission timeout (default 200 000 us, Linux's minimum RTO); doubles per retry. */
  rtoInitialUs: number;
  /** Cap on the retransmission timeout (default 60 000 000 us). */
  rtoMaxUs: number;
  /** Consecutive losses of one segment after which the connection resets with ETIMEDOUT (default 8). */
  maxRetransmits: number;
  /** connect() gives up with ETIMEDOUT after this long (default 10 000 000 us). */
  connectTimeoutUs: number;
  /** After close(), if the peer never closes its side within this time the connection is reset (default 60 000 000 us). */
  closeTimeoutUs: number;
}

export const DEFAULT_LINK: Readonly<LinkConfig> = Object.freeze({
  latency: Object.freeze({ kind: 'constant', us: 1000 }),
  jitterUs: 0,
  bandwidthBytesPerSec: 0,
  lossRate: 0,
});

export const DEFAULT_CONN: Readonly<ConnConfig> = Object.freeze({
  sendBufferBytes: 65536,
  recvBufferBytes: 65536,
  mssBytes: 1460,
  randomChunking: false,
  partialWriteProbability: 0,
  rtoInitialUs: 200_000,
  rtoMaxUs: 60_000_000,
  maxRetransmits: 8,
  connectTimeoutUs: 10_000_000,
  closeTimeoutUs: 60_000_000,
});

function bad(field: string, detail: string): never {
  throw new SimError('ERR_BAD_ARGUMENT', `${field}: ${detail}`);
}

function checkNumber(field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max) {
    bad(field, `must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/**
 * Validates a latency model with the shared schema of sim/fault-limits.ts (the bounds fault plans,
 * the fault proxy and scenarios use too); a SimError ERR_BAD_ARGUMENT naming `field` otherwise.
 */
export function validateLatency(field: string, m: unknown): LatencyModel {
  return parseWith(latencyModelSchema, m, field);
}

function checkSize(field: string, v: unknown): SizeSetting {
  if (typeof v === 'number') return checkNumber(field, v, 1, MAX_SIZE_BYTES);
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const minBytes = checkNumber(`${field}.minBytes`, o.minBytes, 1, MAX_SIZE_BYTES);
    return { minBytes, maxBytes: checkNumber(`${field}.maxBytes`, o.maxBytes, minBytes, MAX_SIZE_BYTES) };
  }
  return bad(field, `must be a byte count or {minBytes, maxBytes}, got ${JSON.stringify(v)}`);
}

const LINK_KEYS = new Set(['latency', 'jitterUs', 'bandwidthBytesPerSec', 'lossRate']);
const CONN_KEYS = new Set(Object.keys(DEFAULT_CONN));

function checkKeys(field: string, o: object, allowed: Set<string>): void {
  for (const k of Object.keys(o))
    if (!allowed.has(k)) bad(`${field}.${k}`, `unknown setting (known: ${[...allowed].join(', ')})`);
}

/** Validates a partial link config and merges it over `base`. */
export function mergeLink(field: string, base: Readonly<LinkConfig>, patch: unknown): LinkConfig {
  if (typeof patch !== 'object' || patch === null) bad(field, 'must be an object');
  checkKeys(field, patch, LINK_KEYS);
  const p = patch as Partial<Record<keyof LinkConfig, unknown>>;
  return {
    latency: p.latency === undefined ? base.latency : validateLatency(`${field}.latency`, p.latency),
    jitterUs:
      p.jitterUs === undefined ? base.jitterUs : parseWith(jitterUsSchema, p.jitterUs, `${field}.jitterUs`),
    bandwidthBytesPerSec:
      p.bandwidthBytesPerSec === undefined
        ? base.bandwidthBytesPerSec
        : parseWith(bandwidthSchema, p.bandwidthBytesPerSec, `${field}.bandwidthBytesPerSec`),
    lossRate:
      p.lossRate === undefined
        ? base.lossRate
        : parseWith(probabilitySchema, p.lossRate, `${field}.lossRate`),
  };
}

/** Validates a partial connection config and merges it over `base`. */
export function mergeConn(field: string, base: Readonly<ConnConfig>, patch: unknown): ConnConfig {
  if (typeof patch !== 'object' || patch === null) bad(field, 'must be an object');
  checkKeys(field, patch, CONN_KEYS);
  const p = patch as Partial<Record<keyof ConnConfig, unknown>>;
  const num = (k: keyof ConnConfig, min: number, max?: number): number =>
    p[k] === undefined ? (base[k] as number) : checkNumber(`${field}.${k}`, p[k], min, max);
  const out: ConnConfig = {
    sendBufferBytes:
      p.sendBufferBytes === undefined
        ? base.sendBufferBytes
        : checkSize(`${field}.sendBufferBytes`, p.sendBufferBytes),
    recvBufferBytes:
      p.recvBufferBytes === undefined
        ? base.recvBufferBytes
        : checkSize(`${field}.recvBufferBytes`, p.recvBufferBytes),
    mssBytes: num('mssBytes', 1, 2 ** 20),
    randomChunking:
      p.randomChunking === undefined
        ? base.randomChunking
        : checkBool(`${field}.randomChunking`, p.randomChunking),
    partialWriteProbability: num('partialWriteProbability', 0, 1),
    rtoInitialUs: num('rtoInitialUs', 1),
    rtoMaxUs: num('rtoMaxUs', 1),
    maxRetransmits: num('maxRetransmits', 0, 64),
    connectTimeoutUs: num('connectTimeoutUs', 1),
    closeTimeoutUs: num('closeTimeoutUs', 1),
  };
  if (out.rtoMaxUs < out.rtoInitialUs)
    bad(`${field}.rtoMaxUs`, `must be >= rtoInitialUs (${out.rtoInitialUs})`);
  return out;
}

function checkBool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') bad(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

/** Draws a latency from a model using keyed draws (index, salts base..base+2), so it is local to one segment. */
export function drawLatencyUs(m: LatencyModel, fate: KeyedStream, index: number, saltBase: number): number {
  switch (m.kind) {
    case 'constant':
      return m.us;
    case 'uniform':
      return m.minUs + fate.unit(index, saltBase) * (m.maxUs - m.minUs);
    case 'exponential':
      return m.minUs - m.meanUs * Math.log(1 - fate.unit(index, saltBase));
    case 'mixture':
      return fate.unit(index, saltBase + 1) < m.slowProbability
        ? drawLatencyUs(m.slow, fate, index, saltBase + 2)
        : drawLatencyUs(m.fast, fate, index, saltBase + 2);
  }
}

/** Resolves a SizeSetting for one connection with a keyed draw. */
export function drawSize(s: SizeSetting, fate: KeyedStream, salt: number): number {
  if (typeof s === 'number') return s;
  return Math.floor(s.minBytes + fate.unit(0, salt) * (s.maxBytes - s.minBytes + 1));
}
