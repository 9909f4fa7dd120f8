import { describe, expect, it } from 'vitest';
import type { TraceEvent, TraceInput } from '../sim/trace.js';
import {
  bucketOf,
  bytesInFlight,
  bytesInFlightByConn,
  clipBands,
  CONN_SERIES_MAX,
  connLabel,
  latencyPoints,
  latencyQuantiles,
  makeBuckets,
  quantile,
  queueDepths,
  recvQueueBySocket,
  throughput,
  timeBands,
  visibleSteps,
} from './charts-model.js';
import { buildDiagram, filterMask, INPROC_CONN, parseFilter } from './viewer-model.js';

function trace(...inputs: (TraceInput & { tUs: number })[]): TraceEvent[] {
  return inputs.map((e, seq) => ({ ...e, seq }));
}

// cli writes 10 B at 100 µs, delivered as 4 B at 600 and 6 B at 900; srv writes 3 B back at 1000,
// delivered at 1100; a partition from 700 to 1500; a queue sampled twice.
const EVENTS = trace(
  { kind: 'connect', host: 'cli', conn: 1, from: 'tcp://cli:1', to: 'tcp://srv:80', tUs: 0 },
  { kind: 'accept', host: 'srv', conn: 1, from: 'tcp://cli:1', to: 'tcp://srv:80', tUs: 0 },
  { kind: 'write', host: 'cli', conn: 1, offered: 10, accepted: 10, tUs: 100 },
  { kind: 'chunk', host: 'srv', conn: 1, dir: 'c>s', bytes: 4, offset: 0, tUs: 600 },
  { kind: 'fault-start', fault: 'partition', id: 0, detail: 'cli|srv', tUs: 700 },
  { kind: 'queue-depth', host: 'srv', queue: 'recv', depth: 1, tUs: 700 },
  { kind: 'chunk', host: 'srv', conn: 1, dir: 'c>s', bytes: 6, offset: 4, tUs: 900 },
  { kind: 'write', host: 'srv', conn: 1, offered: 3, accepted: 3, tUs: 1000 },
  { kind: 'chunk', host: 'cli', conn: 1, dir: 's>c', bytes: 3, offset: 0, tUs: 1100 },
  { kind: 'queue-depth', host: 'srv', queue: 'recv', depth: 0, tUs: 1200 },
  { kind: 'fault-end', fault: 'partition', id: 0, tUs: 1500 },
  { kind: 'note', host: 'cli', text: 'the end', tUs: 2000 },
);
const model = buildDiagram(EVENTS);

describe('buckets', () => {
  it('split a range evenly and clamp times outside it', () => {
    const b = makeBuckets(0, 1000, 4);
    expect(b).toEqual({ t0: 0, width: 250, count: 4 });
    expect([0, 249, 250, 999, 1000, -5, 5000].map((t) => bucketOf(b, t))).toEqual([0, 0, 1, 3, 3, 0, 3]);
    expect(makeBuckets(5, 5, 0)).toEqual({ t0: 5, width: 1, count: 1 });
  });
});

describe('throughput', () => {
  it('sums delivered bytes per bucket, in total and per receiving host', () => {
    const tp = throughput(model, makeBuckets(0, 2000, 4));
    expect(tp.total.map((p) => p.y)).toEqual([0, 4 + 6, 3, 0]);
    expect(tp.total.map((p) => p.x)).toEqual([250, 750, 1250, 1750]);
    expect(tp.perHost.map((s) => [s.host, s.points.map((p) => p.y)])).toEqual([
      ['cli', [0, 0, 3, 0]],
      ['srv', [0, 10, 0, 0]],
    ]);
  });
});

describe('latency', () => {
  it('is delivery time minus the sending write’s time, per chunk', () => {
    expect(latencyPoints(model)).toEqual([
      { x: 600, y: 500 },
      { x: 900, y: 800 },
      { x: 1100, y: 100 },
    ]);
  });
  it('quantiles per bucket, nearest rank, empty buckets left out', () => {
    expect(quantile([], 0.5)).toBeNaN();
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.99)).toBe(4);
    const q = latencyQuantiles(latencyPoints(model), makeBuckets(0, 2000, 2));
    expect(q.p50).toEqual([
      { x: 500, y: 500 },
      { x: 1500, y: 100 },
    ]);
    expect(q.p99).toEqual([
      { x: 500, y: 800 },
      { x: 1500, y: 100 },
    ]);
  });
});

describe('bytes in flight and queue depth', () => {
  it('counts bytes from their write to their delivery', () => {
    expect(bytesInFlight(model)).toEqual([
      { x: 100, y: 10 },
      { x: 600, y: 6 },
      { x: 900, y: 0 },
      { x: 1000, y: 3 },
      { x: 1100, y: 0 },
    ]);
  });
  it('one step series per (host, queue)', () => {
    expect(queueDepths(model)).toEqual([
      {
        label: 'srv recv',
        points: [
          { x: 700, y: 1 },
          { x: 1200, y: 0 },
        ],
      },
    ]);
  });
});

// Four connections from c0..c3 to srv carrying 40, 30, 20 and 10 B (written at 100·k, delivered
// 50 µs later), the server's end of each reading half of it at once and the rest later; conn 4 is
// reset with 5 B unread.
function fourConns() {
  const inputs: (TraceInput & { tUs: number })[] = [];
  for (let c = 1; c <= 4; c++) {
    const from = `tcp://c${c - 1}:1`;
    inputs.push(
      { kind: 'connect', host: `c${c - 1}`, conn: c, from, to: 'tcp://srv:80', tUs: 0 },
      { kind: 'accept', host: 'srv', conn: c, from, to: 'tcp://srv:80', tUs: 0 },
    );
  }
  for (let c = 1; c <= 4; c++) {
    const bytes = 50 - 10 * c;
    inputs.push(
      { kind: 'write', host: `c${c - 1}`, conn: c, offered: bytes, accepted: bytes, tUs: 100 * c },
      { kind: 'chunk', host: 'srv', conn: c, dir: 'c>s', bytes, offset: 0, tUs: 100 * c + 50 },
      { kind: 'read', host: 'srv', conn: c, bytes: bytes / 2, tUs: 100 * c + 50 },
    );
  }
  inputs.push({ kind: 'read', host: 'srv', conn: 1, bytes: 20, tUs: 1000 });
  inputs.push({ kind: 'reset', host: 'srv', conn: 4, reason: 'fault', lostBytes: 0, tUs: 1100 });
  return buildDiagram(trace(...inputs));
}

describe('per connection and per socket', () => {
  it('bytes in flight: one series per connection, named by its ends; the sum of the series is the total', () => {
    const one = bytesInFlightByConn(model);
    expect(one).toEqual([{ key: 'conn:1', label: 'conn 1 cli↔srv', points: bytesInFlight(model) }]);
    expect(connLabel(model, INPROC_CONN)).toBe('inproc');

    const m = fourConns();
    const all = bytesInFlightByConn(m);
    expect(all.map((s) => s.label)).toEqual([
      'conn 1 c0↔srv',
      'conn 2 c1↔srv',
      'conn 3 c2↔srv',
      'conn 4 c3↔srv',
    ]);
    expect(all[1]!.points).toEqual([
      { x: 200, y: 30 },
      { x: 250, y: 0 },
    ]);
  });

  it('keeps the connections that carried the most bytes and sums the rest as "other"', () => {
    const m = fourConns();
    const top = bytesInFlightByConn(m, 2);
    expect(top.map((s) => s.key)).toEqual(['conn:1', 'conn:2', 'other']);
    expect(top[2]!.label).toBe('other (2 connections)');
    expect(top[2]!.points).toEqual([
      { x: 300, y: 20 },
      { x: 350, y: 0 },
      { x: 400, y: 10 },
      { x: 450, y: 0 },
    ]);
    expect(CONN_SERIES_MAX).toBeGreaterThanOrEqual(2);
    expect(bytesInFlightByConn(m, 0).map((s) => s.key)).toEqual(['other']);
  });

  it('receive queue per socket: delivered minus read; a reset empties it', () => {
    const m = fourConns();
    const q = recvQueueBySocket(m);
    expect(q.map((s) => s.label)).toEqual([
      'srv conn 1 recv',
      'srv conn 2 recv',
      'srv conn 3 recv',
      'srv conn 4 recv',
    ]);
    // 40 B arrive and 20 are read at one instant (the last level is drawn), the rest at 1000 µs.
    expect(q[0]!.points).toEqual([
      { x: 150, y: 20 },
      { x: 1000, y: 0 },
    ]);
    expect(q[3]!.points).toEqual([
      { x: 450, y: 5 },
      { x: 1100, y: 0 },
    ]);
    // The filter's sockets: only conn 2.
    expect(recvQueueBySocket(m, CONN_SERIES_MAX, (_h, c) => c === 2).map((s) => s.key)).toEqual([
      'sock:srv:2',
    ]);
    const top = recvQueueBySocket(m, 1);
    expect(top.map((s) => s.label)).toEqual(['srv conn 1 recv', 'other (3 sockets)']);
    // conn 2 and 3 keep 15 and 10 B unread; conn 4's 5 B go with the reset.
    expect(top[1]!.points.at(-1)).toEqual({ x: 1100, y: 25 });
  });

  it('charts over arrows count only what the filter selects', () => {
    const m = fourConns();
    const mask = filterMask(m, parseFilter('conn:2 conn:3').filter)!.arrows;
    expect(throughput(m, makeBuckets(0, 1000, 1), mask).total.map((p) => p.y)).toEqual([30 + 20]);
    expect(latencyPoints(m, mask)).toHaveLength(2);
    expect(bytesInFlight(m, mask).map((p) => p.y)).toEqual([30, 0, 20, 0]);
    expect(bytesInFlightByConn(m, CONN_SERIES_MAX, mask).map((s) => s.key)).toEqual(['conn:2', 'conn:3']);
    expect(queueDepths(model, () => false)).toEqual([]);
  });
});

describe('level series cut to the visible range', () => {
  const steps = [
    { x: 0, y: 1 },
    { x: 10, y: 5 },
    { x: 20, y: 2 },
    { x: 30, y: 0 },
  ];
  it('carries the level in at lo and out to hi', () => {
    expect(visibleSteps(steps, 15, 25, 100)).toEqual([
      { x: 15, y: 5 },
      { x: 20, y: 2 },
      { x: 25, y: 2 },
    ]);
    expect(visibleSteps(steps, -5, 40, 100)).toEqual([...steps, { x: 40, y: 0 }]);
    expect(visibleSteps(steps, 40, 50, 100)).toEqual([
      { x: 40, y: 0 },
      { x: 50, y: 0 },
    ]);
    expect(visibleSteps([], 0, 10, 100)).toEqual([]);
  });
  it('thins many changes to at most maxPoints (plus the ends), keeping each bucket’s peaks and last level', () => {
    // A saw: 0..9 repeated 1000 times, one change per µs.
    const saw = Array.from({ length: 10_000 }, (_, i) => ({ x: i, y: i % 10 }));
    const thin = visibleSteps(saw, 0, 9999, 300);
    expect(thin.length).toBeLessThanOrEqual(300 + 2);
    for (let k = 1; k < thin.length; k++) expect(thin[k]!.x).toBeGreaterThanOrEqual(thin[k - 1]!.x);
    expect(Math.max(...thin.map((p) => p.y))).toBe(9);
    expect(Math.min(...thin.map((p) => p.y))).toBe(0);
    expect(thin.at(-1)).toEqual({ x: 9999, y: 9 });
    // Sparse changes with gaps wider than a bucket: nothing is invented or moved.
    const sparse = [
      ...Array.from({ length: 10 }, (_, i) => ({ x: i, y: i })),
      ...Array.from({ length: 10 }, (_, i) => ({ x: 900 + i, y: 20 - i })),
    ];
    const thinSparse = visibleSteps(sparse, 0, 1000, 9);
    expect(thinSparse.length).toBeLessThan(sparse.length);
    for (const p of thinSparse.slice(0, -1)) expect(sparse).toContainEqual(p);
    for (let k = 1; k < thinSparse.length; k++)
      expect(thinSparse[k]!.x).toBeGreaterThan(thinSparse[k - 1]!.x);
    expect(thinSparse.at(-1)).toEqual({ x: 1000, y: 11 });
  });
});

describe('fault bands in time', () => {
  it('come from the model and clip to a range', () => {
    const bands = timeBands(model);
    expect(bands).toEqual([expect.objectContaining({ kind: 'fault', startUs: 700, endUs: 1500 })]);
    expect(clipBands(bands, 1000, 3000)).toEqual([expect.objectContaining({ startUs: 1000, endUs: 1500 })]);
    expect(clipBands(bands, 0, 800)).toEqual([expect.objectContaining({ startUs: 700, endUs: 800 })]);
    expect(clipBands(bands, 1600, 3000)).toEqual([]);
    expect(clipBands(bands, 0, 600)).toEqual([]);
  });
});
