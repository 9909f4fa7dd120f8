import { describe, expect, it } from 'vitest';
import { Hash64, HashLabel, hashValue } from './hash.js';
import {
  CallbackSink,
  eventDigest,
  firstDivergence,
  RingSink,
  toJsonLines,
  Trace,
  TRACE_SCHEMA,
  type TraceEvent,
} from './trace.js';
import { World } from './world.js';

// Digest of string 'abc', int 42, float 0.25: pinned so an accidental change to the hash is caught.
const PINNED = '238949b571c65ec2';

describe('Hash64', () => {
  it('distinguishes types, order and content', () => {
    const values: unknown[] = [
      1,
      '1',
      1.5,
      true,
      null,
      undefined,
      [1, 2],
      [2, 1],
      { a: 1 },
      { b: 1 },
      new Uint8Array([1]),
      '',
    ];
    const digests = values.map(hashValue);
    expect(new Set(digests).size).toBe(values.length);
    expect(hashValue({ a: [1, 'x'] })).toBe(hashValue({ a: [1, 'x'] }));
  });

  it('is stable across releases (pinned digests: a change here breaks replay of recorded traces)', () => {
    const h = new Hash64();
    h.string('abc');
    h.number(42);
    h.number(0.25);
    expect(h.hex()).toBe(PINNED);
  });
});

describe('Trace', () => {
  it('stamps seq and virtual time and feeds every sink', () => {
    let now = 0;
    const seen: TraceEvent[] = [];
    const ring = new RingSink(2);
    const t = new Trace(() => now, { sinks: [ring, new CallbackSink((e) => seen.push(e))] });
    t.emit({ kind: 'note', text: 'one' });
    now = 5;
    t.emit({ kind: 'read', bytes: 3, host: 'a', conn: 1 });
    now = 9;
    t.emit({ kind: 'note', text: 'three' });
    expect(seen.map((e) => [e.seq, e.tUs, e.kind])).toEqual([
      [0, 0, 'note'],
      [1, 5, 'read'],
      [2, 9, 'note'],
    ]);
    expect(ring.events().map((e) => e.seq)).toEqual([1, 2]);
    expect(ring.dropped).toBe(1);
    expect(t.count).toBe(3);
  });

  it('with hashing off and no sinks it is disabled and hashes nothing', () => {
    const t = new Trace(() => 0, { hash: false });
    expect(t.enabled).toBe(false);
    t.emit({ kind: 'note', text: 'x' });
    expect(t.hash()).toBe('');
    expect(t.count).toBe(0);
  });

  it('the running hash depends on content and time', () => {
    const run = (text: string, at: number): string => {
      const t = new Trace(() => at);
      t.emit({ kind: 'note', text });
      return t.hash();
    };
    expect(run('a', 1)).toBe(run('a', 1));
    expect(run('a', 1)).not.toBe(run('b', 1));
    expect(run('a', 1)).not.toBe(run('a', 2));
  });

  it('hashes the typed session, stream, correlation and hand-off ids (schema @2)', () => {
    const msg: TraceEvent = {
      seq: 0,
      tUs: 5,
      kind: 'msg-send',
      host: 'a',
      proto: 'req0',
      msg: 'request',
      bytes: 8,
      fields: [],
      session: 'pipe/7',
      stream: 3,
      corr: 42,
      answer: true,
      handoff: 1,
    };
    const digests = [
      msg,
      { ...msg, session: 'pipe/8' },
      { ...msg, stream: 5 },
      { ...msg, corr: 43 },
      { ...msg, corr: '42' },
      { ...msg, answer: false },
      { ...msg, handoff: 2 },
    ].map(eventDigest);
    expect(new Set(digests).size).toBe(digests.length);
    const open: TraceEvent = {
      seq: 0,
      tUs: 5,
      kind: 'session-open',
      host: 'a',
      conn: 1,
      session: 'pipe/7',
      type: 'sp-pipe',
      proto: 'req0',
      peer: 'tcp://b:80',
      local: 'tcp://a:49152',
    };
    const sessions = [
      open,
      { ...open, session: 'pipe/8' },
      { ...open, type: 'h2-conn' },
      { ...open, peer: 'tcp://c:80' },
      { ...open, local: 'tcp://a:49153' },
      { seq: 0, tUs: 5, kind: 'session-close', host: 'a', conn: 1, session: 'pipe/7' },
      { seq: 0, tUs: 5, kind: 'session-close', host: 'a', conn: 1, session: 'pipe/7', reason: 'ErrClosed' },
    ].map((e) => eventDigest(e as TraceEvent));
    expect(new Set(sessions).size).toBe(sessions.length);
  });

  it('finds the first divergence between two traces', async () => {
    const record = async (changeAt: number): Promise<TraceEvent[]> => {
      const ring = new RingSink();
      const w = new World({ seed: 3, trace: { sinks: [ring] } });
      for (let i = 0; i < 10; i++)
        w.setTimer(i * 10, () => w.trace.emit({ kind: 'note', text: i === changeAt ? 'X' : `n${i}` }));
      await w.run();
      return ring.events();
    };
    const a = await record(-1);
    const b = await record(6);
    const i = firstDivergence(a, b);
    expect(i).toBeGreaterThan(0);
    expect(a[i]).toMatchObject({ kind: 'note', text: 'n6' });
    expect(b[i]).toMatchObject({ kind: 'note', text: 'X' });
    expect(firstDivergence(a, a)).toBe(-1);
    expect(firstDivergence(a, a.slice(0, 5))).toBe(5);
  });

  it('the write/chunk/read fast paths hash and record exactly what emit() of the same events does', () => {
    let now = 0;
    const viaFast: TraceEvent[] = [];
    const viaEmit: TraceEvent[] = [];
    const fast = new Trace(() => now, { sinks: [new CallbackSink((e) => viaFast.push(e))] });
    const slow = new Trace(() => now, { sinks: [new CallbackSink((e) => viaEmit.push(e))] });
    const host = new HashLabel('client7');
    const dir = new HashLabel('c>s');
    for (const t of [0, 5, 2 ** 33 + 17]) {
      now = t;
      fast.write(host, 3, 64, 40);
      slow.emit({ kind: 'write', host: 'client7', conn: 3, offered: 64, accepted: 40 });
      fast.chunk(host, 3, dir, 40, 2 ** 40 + 1);
      slow.emit({ kind: 'chunk', host: 'client7', conn: 3, dir: 'c>s', bytes: 40, offset: 2 ** 40 + 1 });
      fast.read(host, 3, 40);
      slow.emit({ kind: 'read', host: 'client7', conn: 3, bytes: 40 });
    }
    expect(fast.hash()).toBe(slow.hash());
    expect(viaFast).toEqual(viaEmit);
    // And the hash-only path (no sinks) agrees too.
    const bare = new Trace(() => now);
    now = 9;
    bare.read(host, 1, 2);
    const bareSlow = new Trace(() => now);
    bareSlow.emit({ kind: 'read', host: 'client7', conn: 1, bytes: 2 });
    expect(bare.hash()).toBe(bareSlow.hash());
  });

  it('writes JSON lines with the schema header first', () => {
    const text = toJsonLines({ schema: TRACE_SCHEMA, seed: 's' }, [
      { seq: 0, tUs: 1, kind: 'note', text: 'hi' },
    ]);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ schema: 'netlab/trace@2', seed: 's' });
    expect(lines[1]).toMatchObject({ kind: 'note', text: 'hi' });
  });
});
