import { describe, expect, it } from 'vitest';
import type { TraceEvent, TraceInput } from '../sim/trace.js';
import {
  bucketOf,
  bytesInFlight,
  clipBands,
  latencyPoints,
  latencyQuantiles,
  makeBuckets,
  quantile,
  queueDepths,
  throughput,
  timeBands,
} from './charts-model.js';
import { buildDiagram } from './viewer-model.js';

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
