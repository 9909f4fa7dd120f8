import { describe, expect, it } from 'vitest';
import '../scenarios/sp/families/index.js';
import '../scenarios/sp/museum/index.js';
import { defineScenario } from '../scenarios/sp/define.js';
import { runScenario } from '../scenarios/sp/run.js';
import { toJsonLines, TRACE_SCHEMA, type TraceEvent, type TraceInput } from '../sim/trace.js';
import type { MessageDecoder } from './message-decoder.js';
import { timeBands } from './charts-model.js';
import { syntheticTrace } from './testing/synthetic.js';
import {
  applyKnobs,
  buildDiagram,
  changedCells,
  eventAtTime,
  failurePin,
  filterMask,
  formatFilter,
  INPROC_CONN,
  layout,
  layoutAligned,
  parseFilter,
  posAtTime,
  stepMatching,
  messageView,
  parseTrace,
  STATE_CHECKPOINT_EVERY,
  StateIndex,
  stateRows,
  timeAt,
  toChromeTrace,
  TraceSchemaError,
} from './viewer-model.js';

/** Stamps seq in order; each input carries its own tUs. */
function trace(...inputs: (TraceInput & { tUs: number })[]): TraceEvent[] {
  return inputs.map((e, seq) => ({ ...e, seq }));
}

// cli writes 10 B (delivered as 4 + 6 after latency), then 8 B of which only 5 are accepted and which
// a reset destroys; a segment is lost once; a partition and a host pause are on for a while.
const SMALL = trace(
  { kind: 'connect', host: 'cli', conn: 1, from: 'tcp://cli:1', to: 'tcp://srv:80', tUs: 0 },
  { kind: 'accept', host: 'srv', conn: 1, from: 'tcp://cli:1', to: 'tcp://srv:80', tUs: 0 },
  { kind: 'write', host: 'cli', conn: 1, offered: 10, accepted: 10, tUs: 100 },
  { kind: 'chunk', host: 'srv', conn: 1, dir: 'c>s', bytes: 4, offset: 0, tUs: 600 },
  { kind: 'fault-start', fault: 'partition', id: 0, detail: 'cli|srv', tUs: 700 },
  { kind: 'chunk', host: 'srv', conn: 1, dir: 'c>s', bytes: 6, offset: 4, tUs: 900 },
  { kind: 'loss', host: 'cli', conn: 1, dir: 'c>s', bytes: 5, retransmits: 1, delayUs: 200, tUs: 950 },
  { kind: 'write', host: 'cli', conn: 1, offered: 8, accepted: 5, tUs: 1000 },
  { kind: 'fault-end', fault: 'partition', id: 0, tUs: 1500 },
  { kind: 'host', host: 'srv', state: 'paused', tUs: 1600 },
  { kind: 'host', host: 'srv', state: 'resumed', tUs: 1700 },
  { kind: 'reset', host: 'cli', conn: 1, reason: 'fault 1', lostBytes: 5, tUs: 2000 },
  { kind: 'note', host: 'cli', text: 'the end', tUs: 50_000 },
);

describe('parseTrace', () => {
  it('reads the header and the events, and counts bad lines instead of failing', () => {
    const text = toJsonLines({ schema: TRACE_SCHEMA, seed: 's' }, SMALL) + 'not json\n{"kind":"x"}\n[1]\n';
    const p = parseTrace(text);
    expect(p.header).toEqual({ schema: TRACE_SCHEMA, seed: 's' });
    expect(p.events).toEqual(SMALL);
    expect(p.badLines).toBe(3);
  });

  it('refuses a trace of another schema version, naming the one it has and the one it reads', () => {
    const old = toJsonLines({ schema: 'netlab/trace@1' as typeof TRACE_SCHEMA, seed: 's' }, SMALL);
    expect(() => parseTrace(old)).toThrow(TraceSchemaError);
    expect(() => parseTrace(old)).toThrow(
      /schema "netlab\/trace@1" \(version 1\), an older version than this netlab reads: "netlab\/trace@2" \(version 2\)/,
    );
    const other = toJsonLines({ schema: 'netlab/report@1' as typeof TRACE_SCHEMA, seed: 's' }, SMALL);
    expect(() => parseTrace(other)).toThrow(/not a netlab trace/);
  });
});

describe('buildDiagram', () => {
  it("shades a stack's spans on the column of their first event's host, skipping reversed ones", () => {
    const source: Pick<MessageDecoder, 'spans'> = {
      spans: (events) =>
        [
          { startEvent: 3, endEvent: 5, label: 'work on srv' },
          { startEvent: 2, endEvent: 7, label: 'work on cli' },
          { startEvent: 6, endEvent: 4, label: 'reversed' },
        ].filter((s) => s.endEvent < events.length),
    };
    const m = buildDiagram(SMALL, [], [source]);
    const spans = m.bands.filter((b) => b.kind === 'span');
    const col = (name: string): number => m.hosts.findIndex((x) => x.name === name);
    expect(spans).toEqual([
      { label: 'work on cli', startEvent: 2, endEvent: 7, host: col('cli'), kind: 'span' },
      { label: 'work on srv', startEvent: 3, endEvent: 5, host: col('srv'), kind: 'span' },
    ]);
    // The charts shade faults and hosts down only: a busy server has a span per request.
    expect(timeBands(m).map((b) => b.kind)).not.toContain('span');
    expect(timeBands(m)).toHaveLength(m.bands.length - 2);
  });

  const m = buildDiagram(SMALL);

  it('puts hosts in first-appearance order, after any given order', () => {
    expect(m.hosts.map((x) => x.name)).toEqual(['cli', 'srv']);
    expect(buildDiagram(SMALL, ['srv', 'extra']).hosts.map((x) => x.name)).toEqual(['srv', 'extra', 'cli']);
  });

  it('draws one arrow per chunk from the write holding its first byte; split deliveries are flagged', () => {
    expect([...m.arrowFrom]).toEqual([2, 2]);
    expect([...m.arrowTo]).toEqual([3, 5]);
    expect([...m.arrowFromHost]).toEqual([0, 0]);
    expect([...m.arrowToHost]).toEqual([1, 1]);
    expect([...m.arrowBytes]).toEqual([4, 6]);
    expect([...m.arrowSplit]).toEqual([1, 1]);
  });

  it('marks partial writes, losses mid-flight, resets, and bytes that never arrived as a drop at the reset', () => {
    expect(m.glyphs.map((g) => [g.kind, g.event, g.host, g.peer])).toEqual([
      ['loss', 6, 0, 1],
      ['partial-write', 7, 0, 0],
      ['pause', 9, 1, 1],
      ['resume', 10, 1, 1],
      ['reset', 11, 0, 0],
      ['drop', 11, 0, 1],
    ]);
    expect(m.glyphs.find((g) => g.kind === 'drop')!.label).toMatch(
      /5 B on conn 1 never delivered \(sent at event 7\)/,
    );
  });

  it('shades faults across the plot and host pauses on their column', () => {
    expect(m.bands).toEqual([
      { label: 'partition #0 cli|srv', startEvent: 4, endEvent: 8, host: -1, kind: 'fault' },
      { label: 'srv down', startEvent: 9, endEvent: 10, host: 1, kind: 'pause' },
    ]);
  });

  it('gives every arrow its connection id and lists the connections with their ends', () => {
    expect([...m.arrowConn]).toEqual([1, 1]);
    expect(m.conns).toEqual([{ id: 1, clientHost: 0, serverHost: 1 }]);
  });

  it('draws arrows for a connection whose ends share a host (ipc), each write in the direction its bytes arrive', () => {
    // Both ends on host a: the two handshakes cross (writes 2 and 4), then a request and a reply.
    const local = trace(
      { kind: 'connect', host: 'a', conn: 1, from: 'ipc://', to: 'ipc:///x', tUs: 0 },
      { kind: 'accept', host: 'a', conn: 1, from: 'ipc://', to: 'ipc:///x', tUs: 0 },
      { kind: 'write', host: 'a', conn: 1, offered: 8, accepted: 8, tUs: 0 },
      { kind: 'chunk', host: 'a', conn: 1, dir: 'c>s', bytes: 8, offset: 0, tUs: 10 },
      { kind: 'write', host: 'a', conn: 1, offered: 8, accepted: 8, tUs: 10 },
      { kind: 'write', host: 'a', conn: 1, offered: 20, accepted: 20, tUs: 15 },
      { kind: 'chunk', host: 'a', conn: 1, dir: 's>c', bytes: 8, offset: 0, tUs: 20 },
      { kind: 'chunk', host: 'a', conn: 1, dir: 'c>s', bytes: 20, offset: 8, tUs: 30 },
      { kind: 'write', host: 'a', conn: 1, offered: 5, accepted: 5, tUs: 30 },
      { kind: 'chunk', host: 'a', conn: 1, dir: 's>c', bytes: 5, offset: 8, tUs: 40 },
    );
    const lm = buildDiagram(local);
    expect([...lm.arrowFrom]).toEqual([2, 4, 5, 8]);
    expect([...lm.arrowTo]).toEqual([3, 6, 7, 9]);
    expect([...lm.arrowFromHost]).toEqual([0, 0, 0, 0]);
    expect([...lm.arrowToHost]).toEqual([0, 0, 0, 0]);
    expect([...lm.arrowSplit]).toEqual([0, 0, 0, 0]);
    expect(lm.glyphs.filter((g) => g.kind === 'drop')).toEqual([]);
  });

  it('draws an arrow per message handed over in memory, from its msg-send to the msg-recv of its handoff', () => {
    const msg = (kind: 'msg-send' | 'msg-recv', host: string, bytes: number, handoff?: number) => ({
      kind,
      host,
      proto: 'req0',
      msg: 'message',
      bytes,
      fields: [],
      ...(handoff === undefined ? {} : { handoff }),
      tUs: 0,
    });
    const inproc = trace(
      { kind: 'timer-set', host: 'b', timer: 3, delayUs: 0, label: 'inproc-deliver', tUs: 0 },
      msg('msg-send', 'a', 34, 1),
      msg('msg-send', 'b', 12, 2),
      // Labels and neighbours mean nothing: only the handoff pairs a send with its receipt.
      { kind: 'timer-fire', host: 'b', timer: 3, label: 'inproc-deliver', tUs: 0 },
      msg('msg-recv', 'a', 12, 2),
      msg('msg-recv', 'b', 34, 1),
      // A receipt whose send is not in the trace, and a message without a handoff, draw nothing.
      msg('msg-recv', 'b', 5, 9),
      msg('msg-send', 'a', 7),
      msg('msg-recv', 'b', 7),
    );
    const im = buildDiagram(inproc);
    expect(im.hosts.map((x) => x.name)).toEqual(['b', 'a']);
    expect([...im.arrowFrom]).toEqual([2, 1]);
    expect([...im.arrowTo]).toEqual([4, 5]);
    expect([...im.arrowFromHost]).toEqual([0, 1]);
    expect([...im.arrowToHost]).toEqual([1, 0]);
    expect([...im.arrowBytes]).toEqual([12, 34]);
    expect([...im.arrowConn]).toEqual([INPROC_CONN, INPROC_CONN]);
  });
});

describe('layout', () => {
  const m = buildDiagram(SMALL);

  it('uses virtual time as is when not compressed', () => {
    const l = layout(m, false);
    expect([...l.pos]).toEqual(SMALL.map((e) => e.tUs));
    expect(l.maxArrowSpan).toBe(800);
    expect(timeAt(l, 1234)).toBe(1234);
  });

  it('compresses idle gaps to the median gap and spreads events at one instant', () => {
    const l = layout(m, true);
    for (let i = 1; i < l.pos.length; i++) expect(l.pos[i]!).toBeGreaterThan(l.pos[i - 1]!);
    // The 48 ms idle gap before the last event is drawn no longer than the cap.
    expect(l.pos[12]! - l.pos[11]!).toBeCloseTo(l.capUs + l.stepUs);
    expect(l.pos[12]! - l.pos[11]!).toBeLessThan(1000);
    // Positions map back to the events' times.
    expect(timeAt(l, l.pos[5]!)).toBe(900);
  });

  it('maps a time back to its position (the inverse of timeAt)', () => {
    for (const compressed of [false, true]) {
      const l = layout(m, compressed);
      expect(posAtTime(l, 900)).toBe(l.pos[5]);
      expect(timeAt(l, posAtTime(l, 750))).toBeCloseTo(750);
      expect(timeAt(l, posAtTime(l, 25_000))).toBeCloseTo(25_000);
    }
    // Before the first event and after the last: clamped in the compressed layout.
    const l = layout(m, true);
    expect(posAtTime(l, 10 ** 9)).toBe(l.pos[12]);
    expect(timeAt(l, -5)).toBe(0);
    expect(timeAt(l, 10 ** 9)).toBe(50_000);
  });

  it('puts two traces on one time axis: identical prefixes line up, an instant holds the longer run', () => {
    // The rerun agrees up to event 5, then has three events at 900 µs where the recording has one.
    const rerun = trace(
      ...SMALL.slice(0, 5),
      { kind: 'chunk', host: 'srv', conn: 1, dir: 'c>s', bytes: 6, offset: 4, tUs: 900 },
      { kind: 'note', host: 'srv', text: 'x', tUs: 900 },
      { kind: 'note', host: 'srv', text: 'y', tUs: 900 },
      { kind: 'note', host: 'cli', text: 'the end', tUs: 3000 },
    );
    const r = buildDiagram(rerun);
    const [la, lb] = layoutAligned([m, r], true);
    expect([...lb!.pos.slice(0, 6)]).toEqual([...la!.pos.slice(0, 6)]);
    expect(lb!.pos[7]! - lb!.pos[5]!).toBeCloseTo(2 * la!.stepUs);
    // The recording's next instant (950 µs) comes after all three rerun events at 900 µs.
    expect(la!.pos[6]!).toBeGreaterThan(lb!.pos[7]!);
    // One instant, one position: the last rerun event (3000 µs) sits between the recording's 2000 and 50 000.
    expect(lb!.pos[8]!).toBeGreaterThan(la!.pos[11]!);
    expect(lb!.pos[8]!).toBeLessThan(la!.pos[12]!);
    // A position means one time in both layouts, between instants too.
    for (const p of [la!.pos[6]!, (la!.pos[6]! + la!.pos[7]!) / 2, lb!.pos[8]!])
      expect(timeAt(lb!, p)).toBe(timeAt(la!, p));
    expect(timeAt(lb!, lb!.pos[8]!)).toBe(3000);
    expect(posAtTime(la!, 3000)).toBe(lb!.pos[8]);
    // Alone, the aligned layout is the plain one; uncompressed, positions are times.
    expect([...layoutAligned([m], true)[0]!.pos]).toEqual([...layout(m, true).pos]);
    expect([...layoutAligned([m, r], false)[1]!.pos]).toEqual(rerun.map((e) => e.tUs));
  });

  it('finds the event at a time', () => {
    expect(eventAtTime(m, 0)).toBe(1);
    expect(eventAtTime(m, 650)).toBe(3);
    expect(eventAtTime(m, 10 ** 9)).toBe(12);
  });
});

describe('filter', () => {
  const m = buildDiagram(SMALL);

  it('parses host, conn and words, reports bad terms, and formats back', () => {
    const { filter, problems } = parseFilter('  host:srv conn:1 Partition conn:x conn:inproc host:srv ');
    expect(filter).toEqual({ hosts: ['srv'], conns: [1, INPROC_CONN], words: ['partition'] });
    expect(problems).toEqual(['conn:x is not a connection id (a number, or inproc)']);
    expect(parseFilter(formatFilter(filter)).filter).toEqual(filter);
    expect(filterMask(m, parseFilter('').filter)).toBeNull();
  });

  it('by host: that host’s events and the arrows from or to it', () => {
    const mask = filterMask(m, parseFilter('host:cli').filter)!;
    expect([...mask.matching]).toEqual([0, 2, 6, 7, 11, 12]);
    expect(mask.matchingArrows).toBe(2);
    // The pause and resume glyphs are srv's; the loss and drop go from cli to srv.
    expect(m.glyphs.filter((_, j) => mask.glyphs[j] === 1).map((g) => g.kind)).toEqual([
      'loss',
      'partial-write',
      'reset',
      'drop',
    ]);
    expect(filterMask(m, parseFilter('host:nope').filter)!.problems).toEqual(['no host nope in this trace']);
  });

  it('by connection and by text; an arrow matches the text of its write, its chunk or what the stack traced beside them', () => {
    expect(filterMask(m, parseFilter('conn:2').filter)!.problems).toEqual(['no conn 2 in this trace']);
    const byConn = filterMask(m, parseFilter('conn:1').filter)!;
    expect(byConn.matching.length).toBe(SMALL.filter((e) => e.conn === 1).length);
    const words = filterMask(m, parseFilter('PARTITION cli|srv').filter)!;
    expect([...words.matching]).toEqual([4]);
    expect(words.matchingArrows).toBe(0);
    // "@0" is in the first chunk's text only: one of the two arrows.
    const chunk = filterMask(m, parseFilter('c>s @0').filter)!;
    expect([...chunk.arrows]).toEqual([1, 0]);
    // A message traced right after the write (same host and instant) makes its arrows match.
    const withMsg = trace(
      ...SMALL.slice(0, 3),
      {
        kind: 'msg-send',
        host: 'cli',
        proto: 'req0',
        msg: 'request',
        bytes: 10,
        fields: [{ name: 'request-id', offset: 0, length: 4, value: 77 }],
        tUs: 100,
      },
      { kind: 'chunk', host: 'srv', conn: 1, dir: 'c>s', bytes: 10, offset: 0, tUs: 600 },
    );
    const wm = buildDiagram(withMsg);
    expect(filterMask(wm, parseFilter('request-id=77').filter)!.matchingArrows).toBe(1);
    expect(filterMask(wm, parseFilter('request-id=78').filter)!.matchingArrows).toBe(0);
  });

  it('steps to the next and previous matching event', () => {
    const mask = filterMask(m, parseFilter('host:srv').filter)!;
    expect([...mask.matching]).toEqual([1, 3, 5, 9, 10]);
    expect(stepMatching(mask, 3, 1)).toBe(5);
    expect(stepMatching(mask, 4, 1)).toBe(5);
    expect(stepMatching(mask, 4, -1)).toBe(3);
    expect(stepMatching(mask, 10, 1)).toBe(-1);
    expect(stepMatching(mask, 1, -1)).toBe(-1);
  });
});

describe('state at an event', () => {
  it('tracks connections, sessions, open exchanges, timers and bytes, and says what changed', () => {
    const t = trace(
      { kind: 'connect', host: 'c', conn: 1, from: 'x', to: 'y', tUs: 0 },
      { kind: 'timer-set', host: 'c', timer: 7, delayUs: 10, label: 'resend', tUs: 0 },
      {
        kind: 'session-open',
        host: 'c',
        conn: 1,
        session: 'pipe/42',
        type: 'sp-pipe',
        proto: 'req0',
        peer: 'tcp://s:1',
        tUs: 0,
      },
      {
        kind: 'msg-send',
        host: 'c',
        proto: 'req0',
        msg: 'request',
        bytes: 8,
        fields: [{ name: 'request-id', offset: 0, length: 4, value: 9 }],
        corr: 9,
        tUs: 1,
      },
      { kind: 'write', host: 'c', conn: 1, offered: 16, accepted: 16, tUs: 1 },
      { kind: 'queue-depth', host: 'c', queue: 'send', depth: 3, tUs: 1 },
      {
        kind: 'msg-recv',
        host: 'c',
        proto: 'req0',
        msg: 'reply',
        bytes: 8,
        fields: [{ name: 'request-id', offset: 0, length: 4, value: 9 }],
        corr: 9,
        answer: true,
        tUs: 2,
      },
      { kind: 'timer-clear', host: 'c', timer: 7, label: 'resend', tUs: 2 },
      { kind: 'host', host: 'c', state: 'crashed', tUs: 3 },
    );
    const m = buildDiagram(t);
    const idx = new StateIndex(m);
    const row = (i: number) => stateRows(m, idx.stateAt(i))[0]!.cells;
    expect(row(-1)).toMatchObject({ status: 'up', conns: '–', timers: '–' });
    expect(row(5)).toEqual({
      status: 'up',
      conns: '1: 1',
      sessions: '1: pipe/42',
      outstanding: '1: 9',
      timers: '1: resend',
      queues: 'send=3',
      bytes: '16 out / 0 in',
    });
    expect(row(7)).toMatchObject({ outstanding: '–', timers: '–' });
    expect(row(8)).toMatchObject({ status: 'crashed', conns: '–', sessions: '–' });
    const changed = changedCells(stateRows(m, idx.stateAt(6)), stateRows(m, idx.stateAt(7)));
    expect([...changed]).toEqual(['c/timers']);
  });

  it('keeps a request sent and the same request received on one host apart, and closes each by its answer', () => {
    const msg = (kind: 'msg-send' | 'msg-recv', proto: string, answer: boolean, tUs: number) => ({
      kind,
      host: 'h',
      proto,
      msg: answer ? 'reply' : 'request',
      bytes: 8,
      fields: [],
      corr: 5,
      ...(answer ? { answer } : {}),
      tUs,
    });
    const t = trace(
      msg('msg-send', 'req0', false, 0),
      msg('msg-recv', 'rep0', false, 1),
      msg('msg-send', 'req0', false, 2), // a resend: still one exchange
      msg('msg-send', 'rep0', true, 3),
      { kind: 'session-open', host: 'h', session: 'pipe/1', type: 'sp-pipe', peer: 'inproc://x', tUs: 3 },
      { kind: 'session-close', host: 'h', session: 'pipe/1', reason: 'peer closed', tUs: 3 },
      msg('msg-recv', 'req0', true, 4),
    );
    const m = buildDiagram(t);
    const idx = new StateIndex(m);
    const cells = (i: number) => stateRows(m, idx.stateAt(i))[0]!.cells;
    expect(cells(0).outstanding).toBe('1: 5');
    expect(cells(2).outstanding).toBe('2: 5, 5 (to answer)');
    expect(cells(3).outstanding).toBe('1: 5');
    expect(cells(4).sessions).toBe('1: pipe/1');
    expect(cells(5).sessions).toBe('–');
    expect(cells(6).outstanding).toBe('–');
  });

  it('answers past a checkpoint the same as a replay from the start', () => {
    const events = syntheticTrace(STATE_CHECKPOINT_EVERY * 3 + 17);
    const m = buildDiagram(events);
    const idx = new StateIndex(m);
    for (const at of [STATE_CHECKPOINT_EVERY - 1, STATE_CHECKPOINT_EVERY, STATE_CHECKPOINT_EVERY * 2 + 5]) {
      // Pending timers and bytes out per host, folded by hand from the events.
      const timers = new Map<string, Set<number>>();
      const out = new Map<string, number>();
      for (const e of events.slice(0, at + 1)) {
        const set = timers.get(e.host ?? '') ?? new Set<number>();
        timers.set(e.host ?? '', set);
        if (e.kind === 'timer-set') set.add(e.timer);
        if (e.kind === 'timer-clear') set.delete(e.timer);
        if (e.kind === 'write') out.set(e.host!, (out.get(e.host!) ?? 0) + e.accepted);
      }
      const states = idx.stateAt(at);
      m.hosts.forEach((host, i) => {
        expect([...states[i]!.timers.keys()]).toEqual([...(timers.get(host.name) ?? [])]);
        expect(states[i]!.bytesOut).toBe(out.get(host.name) ?? 0);
      });
    }
    const server = m.hosts.findIndex((x) => x.name === 'server');
    expect(stateRows(m, idx.stateAt(STATE_CHECKPOINT_EVERY * 2 + 5))[server]!.cells.conns).toBe('3: 1, 2, 3');
  });
});

describe('messages', () => {
  /** A decoder that knows each field's bytes: its value repeated. */
  const repeat: MessageDecoder = {
    stack: 'test',
    protos: ['rep0'],
    decode: (e) => ({
      fields: e.fields.map((f) => ({
        ...f,
        bytes: new Array<number>(f.length).fill(Number(f.value) & 0xff),
      })),
      bytesNote: 'repeated values',
    }),
  };

  it('lays a message out as bytes with the fields covering each; the first field knowing a byte gives it', () => {
    const [e] = trace({
      kind: 'msg-recv',
      host: 's',
      proto: 'rep0',
      msg: 'request',
      bytes: 8,
      fields: [
        { name: 'backtrace-words', offset: 0, length: 4, value: 1 },
        { name: 'request-id', offset: 4, length: 4, value: 0x80000001 },
      ],
      tUs: 0,
    });
    const v = messageView(e!, [repeat])!;
    expect(v.direction).toBe('rx');
    expect(v.decodedBy).toBe('test');
    expect(v.bytesNote).toBe('repeated values');
    expect(v.bytes).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    expect(v.fieldsAt[3]).toEqual([0]);
    expect(v.fieldsAt[4]).toEqual([1]);
    // No decoder for the proto: the fields show where they sit, every byte is unknown.
    const plain = messageView(e!, [{ ...repeat, protos: ['req0'] }])!;
    expect(plain.decodedBy).toBeNull();
    expect(plain.fields.map((f) => f.name)).toEqual(['backtrace-words', 'request-id']);
    expect(plain.bytes).toEqual(new Array(8).fill(null));
    const [note] = trace({ kind: 'note', text: 'x', tUs: 0 });
    expect(messageView(note!)).toBeNull();
  });
});

describe('failure pin', () => {
  it('is the first error event, else the last event', () => {
    expect(failurePin(SMALL).event).toBe(12);
    const withError = trace(
      { kind: 'note', text: 'a', tUs: 0 },
      { kind: 'error', host: 'a', code: 'ErrX', message: 'bad', tUs: 1 },
      { kind: 'note', text: 'b', tUs: 2 },
    );
    expect(failurePin(withError)).toMatchObject({ event: 1 });
  });
});

describe('toChromeTrace', () => {
  it('has a process per host, an instant per event, and slices for deliveries, timers and faults (µs)', () => {
    const t = [
      ...SMALL.slice(0, 4),
      { kind: 'timer-set', host: 'cli', timer: 1, delayUs: 50, seq: 4, tUs: 600 } as TraceEvent,
      { kind: 'timer-fire', host: 'cli', timer: 1, seq: 5, tUs: 650 } as TraceEvent,
    ];
    const ct = toChromeTrace(buildDiagram(t), 'x');
    const names = ct.traceEvents.filter((e) => e.name === 'process_name').map((e) => e.args!.name);
    expect(names).toEqual(['faults', 'cli', 'srv']);
    expect(ct.traceEvents.filter((e) => e.ph === 'i')).toHaveLength(t.length);
    const delivery = ct.traceEvents.find((e) => e.cat === 'delivery')!;
    expect(delivery).toMatchObject({ ph: 'X', ts: 100, dur: 500, pid: 2 });
    expect(ct.traceEvents.find((e) => e.cat === 'timer')).toMatchObject({ ts: 600, dur: 50, pid: 1 });
    const fault = toChromeTrace(buildDiagram(SMALL)).traceEvents.find((e) => e.cat === 'fault');
    expect(fault).toMatchObject({ ph: 'X', ts: 700, dur: 800, pid: 0 });
    expect(JSON.parse(JSON.stringify(ct))).toEqual(ct);
  });
});

describe('applyKnobs', () => {
  it('sets latency and loss and removes faults, leaving the original alone', () => {
    const s = {
      network: { latency: { kind: 'fixed', us: 5 }, lossRate: 0.1 },
      faults: { version: 1, faults: ['a', 'b', 'c'] },
    };
    const out = applyKnobs(s, {
      simSeed: 'x',
      latencyMinUs: 10,
      latencyMaxUs: 20,
      lossRate: 0,
      removeFaults: [1],
    });
    expect(out).toEqual({
      network: { latency: { kind: 'uniform', minUs: 10, maxUs: 20 }, lossRate: 0 },
      faults: { version: 1, faults: ['a', 'c'] },
    });
    expect(s.faults.faults).toHaveLength(3);
  });
});

describe('on real traces', () => {
  it('every cross-host chunk of a simulated run gets an arrow, and no arrow goes backwards in time', async () => {
    const scenario = defineScenario({
      hosts: ['client0', 'server'],
      sockets: [
        {
          name: 'server',
          host: 'server',
          protocol: 'rep0',
          listen: ['tcp://server:5555'],
          app: { kind: 'echo' },
        },
        {
          name: 'client0',
          host: 'client0',
          protocol: 'req0',
          dial: ['tcp://server:5555'],
          app: { kind: 'send' },
        },
      ],
      workload: {
        sends: [
          { socket: 'client0', bytes: 3000 },
          { socket: 'client0', bytes: 10 },
        ],
      },
      network: {
        latency: { kind: 'uniform', minUs: 1000, maxUs: 5000 },
        randomChunking: true,
        partialWriteProbability: 0.3,
      },
      checks: ['stack.no-crash', 'reqrep.all-answered'],
    });
    const r = await runScenario(scenario, 'viewer-test', { traceCapacity: 100_000 });
    const m = buildDiagram(r.trace);
    const chunks = r.trace.filter((e) => e.kind === 'chunk').length;
    expect(chunks).toBeGreaterThan(2);
    expect(m.arrowTo.length).toBe(chunks);
    for (let k = 0; k < m.arrowTo.length; k++)
      expect(m.tUs[m.arrowTo[k]!]!).toBeGreaterThanOrEqual(m.tUs[m.arrowFrom[k]!]!);
    expect(m.messages.length).toBeGreaterThan(0);
  });

  it('an ipc run (both ends on one host) gets an arrow per chunk and every written byte delivered; an inproc run an arrow per message', async () => {
    for (const addr of ['ipc:///tmp/viewer', 'inproc://viewer']) {
      const scenario = defineScenario({
        hosts: ['h'],
        sockets: [
          { name: 'server', host: 'h', protocol: 'rep0', listen: [addr], app: { kind: 'echo' } },
          { name: 'client0', host: 'h', protocol: 'req0', dial: [addr], app: { kind: 'send' } },
        ],
        workload: {
          sends: [
            { socket: 'client0', bytes: 3000 },
            { socket: 'client0', bytes: 10 },
            { socket: 'client0', bytes: 70 },
          ],
        },
        network: { randomChunking: true },
        checks: ['stack.no-crash', 'reqrep.all-answered'],
      });
      const r = await runScenario(scenario, 'viewer-local', { traceCapacity: 100_000 });
      const m = buildDiagram(r.trace);
      for (let k = 0; k < m.arrowTo.length; k++) {
        expect(m.arrowFromHost[k]).toBe(0);
        expect(m.arrowToHost[k]).toBe(0);
        expect(m.tUs[m.arrowTo[k]!]!).toBeGreaterThanOrEqual(m.tUs[m.arrowFrom[k]!]!);
      }
      if (addr.startsWith('ipc')) {
        const chunks = r.trace.filter((e) => e.kind === 'chunk').length;
        expect(chunks).toBeGreaterThan(6);
        expect(m.arrowTo.length).toBe(chunks);
        expect(new Set(m.arrowConn)).toEqual(new Set(m.conns.map((c) => c.id)));
        // A write put in the wrong direction would leave bytes that never arrive: a drop.
        expect(m.glyphs.filter((g) => g.kind === 'drop')).toEqual([]);
        for (let k = 0; k < m.arrowTo.length; k++) expect(r.trace[m.arrowFrom[k]!]!.kind).toBe('write');
      } else {
        // Three requests and three replies, each handed over once.
        const received = r.trace.filter((e) => e.kind === 'msg-recv' && e.handoff !== undefined);
        expect(received.length).toBe(6);
        expect([...m.arrowTo].map((i) => r.trace[i])).toEqual(received);
        for (let k = 0; k < m.arrowTo.length; k++) {
          const from = r.trace[m.arrowFrom[k]!]!;
          const to = r.trace[m.arrowTo[k]!]!;
          expect(from.kind).toBe('msg-send');
          expect(from.kind === 'msg-send' && to.kind === 'msg-recv' && from.handoff === to.handoff).toBe(
            true,
          );
        }
        expect([...m.arrowConn]).toEqual(received.map(() => INPROC_CONN));
        // The pipes are sessions of the host, open at the end.
        const last = stateRows(m, new StateIndex(m).stateAt(r.trace.length - 1))[0]!.cells;
        expect(last.sessions).toMatch(/^2: pipe\/\d+, pipe\/\d+$/);
      }
    }
  });

  it('builds the model of a 100 k-event trace quickly', () => {
    const events = syntheticTrace(100_000);
    const t0 = performance.now();
    const m = buildDiagram(events);
    layout(m, true);
    new StateIndex(m).stateAt(99_999);
    const ms = performance.now() - t0;
    expect(m.arrowTo.length).toBeGreaterThan(10_000);
    expect(ms).toBeLessThan(3000);
  });
});
