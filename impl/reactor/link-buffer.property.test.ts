/**
 * Model-based properties of the link buffers: random op sequences against a plain byte-array model.
 * Every read returns exactly the model's bytes, views stay intact until the release that invalidates
 * them, length / heldBytes / bufferedBytes / unsentBytes match, allocations stay within bounds, and
 * no page leaks once everything is released and closed. Fixed seeds; fast-check prints seed and path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isReactorError, type ReactorErrorCode } from './errors.js';
import { InputBuffer, OutputBuffer, type LinkSlice } from './link-buffer.js';
import { PagePool } from './pages.js';

const PAGE_BYTES = 64;

// ---- shared helpers ----

/** A count: absolute (sometimes negative or past the end) or a percentage of what is buffered. */
type Amount = { abs: number } | { pct: number };
const amountArb: fc.Arbitrary<Amount> = fc.oneof(
  { weight: 2, arbitrary: fc.integer({ min: -1, max: 3 * PAGE_BYTES + 20 }).map((abs) => ({ abs })) },
  { weight: 5, arbitrary: fc.integer({ min: 0, max: 100 }).map((pct) => ({ pct })) },
  { weight: 1, arbitrary: fc.constantFrom<Amount>({ pct: 100 }, { abs: 0 }, { abs: 1.5 }) },
);
function resolve(a: Amount, length: number): number {
  return 'abs' in a ? a.abs : Math.floor((length * a.pct) / 100);
}

// Small alphabet (delimiters are found) plus UTF-8 lead/continuation bytes (readString splits characters).
const ALPHABET = [0, 1, 2, 3, 10, 0xc3, 0xa9, 0xe2, 0x86, 0x92, 0xf0, 0x9f, 0x98, 0x80];
const chunkArb = fc
  .array(fc.constantFrom(...ALPHABET), { maxLength: 2 * PAGE_BYTES + 10 })
  .map((a) => Uint8Array.from(a));
const delimiterArb = fc.constantFrom(0, 1, 10, 0x80, 0xff);

/** Runs `real`; if `expectedError` is set it must throw a ReactorError with that code. */
function outcome<T>(real: () => T): { value: T } | { code: ReactorErrorCode } {
  try {
    return { value: real() };
  } catch (e) {
    if (!isReactorError(e)) throw e;
    return { code: e.code };
  }
}

const decode = (b: readonly number[]): string =>
  new TextDecoder('utf-8', { fatal: false }).decode(Uint8Array.from(b));

// ---- a reader and its model (the buffer, or a slice) ----

type ReadOp =
  | { op: 'peek' | 'next' | 'skip' | 'readBytes' | 'readString'; n: Amount }
  | { op: 'until' | 'indexOf'; delimiter: number }
  | { op: 'readU8' | 'readU16BE' | 'readU32BE' | 'peekU32BE' };

const readOpArb: fc.Arbitrary<ReadOp> = fc.oneof(
  fc.record({ op: fc.constantFrom('peek', 'next', 'skip', 'readBytes', 'readString'), n: amountArb }),
  fc.record({ op: fc.constantFrom('until', 'indexOf'), delimiter: delimiterArb }),
  fc.record({ op: fc.constantFrom('readU8', 'readU16BE', 'readU32BE', 'peekU32BE') }),
);

/** What a reader (InputBuffer or LinkSlice) offers the property. */
type Reader = Pick<
  InputBuffer,
  | 'length'
  | 'peek'
  | 'next'
  | 'skip'
  | 'readBytes'
  | 'readString'
  | 'until'
  | 'indexOf'
  | 'readU8'
  | 'readU16BE'
  | 'readU32BE'
  | 'peekU32BE'
>;

/** A view the reader returned and the bytes it must keep showing until its owner releases. */
interface KeptView {
  view: Uint8Array;
  expected: Uint8Array;
}

/** The model of a reader: its unread bytes and whether reading is refused (closed / released). */
interface ReaderModel {
  unread: number[];
  refusedWith: ReactorErrorCode | null;
}

function uintOf(bytes: readonly number[]): number {
  return bytes.reduce((v, b) => v * 256 + b, 0);
}

/**
 * Applies one read op to the real reader and the model, checks they agree, pushes the views to keep
 * checking onto `kept`, and returns how many bytes the op advanced. The model's unread array is
 * consumed in place.
 */
function applyRead(real: Reader, model: ReaderModel, op: ReadOp, kept: KeptView[]): number {
  const len = model.unread.length;
  const expectCode = (n: number): ReactorErrorCode | null =>
    model.refusedWith ?? (Number.isInteger(n) && n >= 0 && n <= len ? null : 'ErrNotEnough');
  const take = (n: number, advance: boolean): number[] => {
    const got = model.unread.slice(0, n);
    if (advance) model.unread.splice(0, n);
    return got;
  };
  switch (op.op) {
    case 'peek':
    case 'next':
    case 'skip':
    case 'readBytes':
    case 'readString': {
      const n = resolve(op.n, len);
      const code = expectCode(n);
      const got = outcome(() => real[op.op](n));
      if (code !== null) {
        expect(got).toEqual({ code });
        return 0;
      }
      expect('value' in got).toBe(true);
      const value = 'value' in got ? got.value : undefined;
      const want = take(n, op.op !== 'peek');
      const advanced = op.op === 'peek' ? 0 : n;
      if (op.op === 'skip') return advanced;
      if (op.op === 'readString') {
        expect(value).toBe(decode(want));
        return advanced;
      }
      expect(value).toEqual(Uint8Array.from(want));
      if (op.op !== 'readBytes' && value instanceof Uint8Array)
        kept.push({ view: value, expected: Uint8Array.from(want) });
      return advanced;
    }
    case 'until':
    case 'indexOf': {
      const at = model.unread.indexOf(op.delimiter);
      if (op.op === 'indexOf') {
        const found = outcome(() => real.indexOf(op.delimiter));
        expect(found).toEqual(model.refusedWith === null ? { value: at } : { code: model.refusedWith });
        return 0;
      }
      const got = outcome(() => real.until(op.delimiter));
      if (model.refusedWith !== null) {
        expect(got).toEqual({ code: model.refusedWith });
        return 0;
      }
      if (at < 0) {
        expect(got).toEqual({ value: null });
        return 0;
      }
      const want = Uint8Array.from(take(at + 1, true));
      expect(got).toEqual({ value: want });
      if ('value' in got && got.value !== null) kept.push({ view: got.value, expected: want });
      return at + 1;
    }
    default: {
      const width = op.op === 'readU8' ? 1 : op.op === 'readU16BE' ? 2 : 4;
      const code = expectCode(width);
      const got = outcome(() => real[op.op]());
      if (code !== null) {
        expect(got).toEqual({ code });
        return 0;
      }
      expect(got).toEqual({ value: uintOf(take(width, op.op !== 'peekU32BE')) });
      return op.op === 'peekU32BE' ? 0 : width;
    }
  }
}

function checkKept(kept: readonly KeptView[]): void {
  for (const k of kept) expect(k.view).toEqual(k.expected);
}

// ---- InputBuffer ----

type InputOp =
  | { op: 'append'; chunk: Uint8Array }
  | { op: 'read'; read: ReadOp }
  | { op: 'slice'; n: Amount }
  | { op: 'sliceRead'; k: number; read: ReadOp }
  | { op: 'sliceBytes'; k: number }
  | { op: 'sliceRelease'; k: number }
  | { op: 'release' | 'close' | 'end' };

// Weights: mostly appends and reads; close and end are rare so most runs read a lot before them.
const inputOpArb: fc.Arbitrary<InputOp> = fc.oneof(
  { weight: 16, arbitrary: chunkArb.map((chunk) => ({ op: 'append' as const, chunk })) },
  { weight: 24, arbitrary: readOpArb.map((read) => ({ op: 'read' as const, read })) },
  { weight: 6, arbitrary: amountArb.map((n) => ({ op: 'slice' as const, n })) },
  {
    weight: 10,
    arbitrary: fc.record({ op: fc.constant('sliceRead' as const), k: fc.nat(), read: readOpArb }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('sliceBytes' as const), k: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('sliceRelease' as const), k: fc.nat() }) },
  { weight: 6, arbitrary: fc.constant({ op: 'release' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'end' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'close' as const }) },
);

interface LiveSlice {
  real: LinkSlice;
  model: ReaderModel;
  /** Absolute stream range it covers (pins the chunks overlapping it). */
  from: number;
  to: number;
  kept: KeptView[];
}

/** The byte-array model of an InputBuffer: the whole stream, the read position, chunk boundaries. */
class InputModel implements ReaderModel {
  unread: number[] = [];
  refusedWith: ReactorErrorCode | null = null;
  ended = false;
  /** Absolute offset of the read position; bytes before releasedTo were released. */
  position = 0;
  releasedTo = 0;
  chunks: { from: number; to: number }[] = [];
  slices: LiveSlice[] = [];
  appended = 0;

  /** Chunk bytes held: unreleased (while open) or overlapping a live slice's range. */
  heldBytes(): number {
    let held = 0;
    for (const c of this.chunks) {
      const unreleased = this.refusedWith === null && c.to > this.releasedTo;
      const pinned = this.slices.some((s) => s.to > s.from && c.from < s.to && c.to > s.from);
      if (unreleased || pinned) held += c.to - c.from;
    }
    return held;
  }
}

function runInput(ops: readonly InputOp[], poison: boolean, quarantinePages: number, maxBytes: number): void {
  const pool = new PagePool({ pageBytes: PAGE_BYTES, poison, quarantinePages });
  const input = new InputBuffer(pool, { maxBytes });
  const model = new InputModel();
  let kept: KeptView[] = []; // views of the buffer, valid until its next release / close
  // One-off copies only serve straddling reads above a page, each at most what was buffered.
  let oversizeBound = 0;
  const oneOffAtMost = (buffered: number): number => (buffered > PAGE_BYTES ? buffered : 0);
  let steps = 0;

  const pick = (k: number): LiveSlice | undefined => model.slices[k % Math.max(1, model.slices.length)];
  const dropSlice = (s: LiveSlice): void => {
    s.real.release();
    model.slices.splice(model.slices.indexOf(s), 1);
  };

  for (const op of ops) {
    steps++;
    switch (op.op) {
      case 'append': {
        const size = op.chunk.length;
        const expected: ReactorErrorCode | null =
          model.refusedWith ??
          (model.ended ? 'ErrConnClosed' : null) ??
          (size > 0 && model.heldBytes() + size > maxBytes ? 'ErrInputOverflow' : null);
        const got = outcome(() => input.append(op.chunk.slice()));
        if (expected !== null) {
          expect(got).toEqual({ code: expected });
          break;
        }
        expect('value' in got).toBe(true);
        if (size > 0) {
          model.chunks.push({ from: model.appended, to: model.appended + size });
          model.appended += size;
          model.unread.push(...op.chunk);
        }
        break;
      }
      case 'read': {
        oversizeBound += oneOffAtMost(model.unread.length);
        model.position += applyRead(input, model, op.read, kept);
        break;
      }
      case 'slice': {
        const n = resolve(op.n, model.unread.length);
        const got = outcome(() => input.slice(n));
        const code =
          model.refusedWith ??
          (Number.isInteger(n) && n >= 0 && n <= model.unread.length ? null : 'ErrNotEnough');
        if (code !== null) {
          expect(got).toEqual({ code });
          break;
        }
        if (!('value' in got)) throw new Error('slice failed unexpectedly');
        const bytes = model.unread.splice(0, n);
        model.slices.push({
          real: got.value,
          model: { unread: bytes, refusedWith: null },
          from: model.position,
          to: model.position + n,
          kept: [],
        });
        model.position += n;
        break;
      }
      case 'sliceRead': {
        const s = pick(op.k);
        if (s === undefined) break;
        oversizeBound += oneOffAtMost(s.model.unread.length);
        applyRead(s.real, s.model, op.read, s.kept);
        break;
      }
      case 'sliceBytes': {
        const s = pick(op.k);
        if (s === undefined) break;
        const v = s.real.bytes();
        const want = Uint8Array.from(s.model.unread);
        expect(v).toEqual(want);
        s.kept.push({ view: v, expected: want });
        oversizeBound += oneOffAtMost(v.length);
        break;
      }
      case 'sliceRelease': {
        const s = pick(op.k);
        if (s === undefined) break;
        dropSlice(s);
        expect(outcome(() => s.real.release())).toEqual({ code: 'ErrReleased' });
        expect(outcome(() => s.real.peek(0))).toEqual({ code: 'ErrReleased' });
        break;
      }
      case 'release':
        input.release();
        kept = [];
        if (model.refusedWith === null) model.releasedTo = model.position;
        break;
      case 'close':
        input.close();
        kept = [];
        model.refusedWith = 'ErrConnClosed';
        model.unread = [];
        break;
      case 'end':
        input.end();
        model.ended = true;
        break;
    }
    // After every step: the counters match the model, live views are intact, allocations are bounded.
    expect(input.length).toBe(model.unread.length);
    expect(input.heldBytes).toBe(model.heldBytes());
    expect(input.heldBytes).toBeLessThanOrEqual(maxBytes);
    checkKept(kept);
    for (const s of model.slices) {
      expect(s.real.length).toBe(s.model.unread.length);
      checkKept(s.kept);
    }
    const stats = pool.stats;
    expect(stats.allocatedPages).toBeLessThanOrEqual(steps); // at most one page per op
    expect(stats.oversizeBytes).toBeLessThanOrEqual(oversizeBound);
    if (model.slices.length === 0 && (op.op === 'release' || op.op === 'close'))
      expect(stats.outstandingPages).toBe(0);
  }

  // Everything released and closed: no chunk held, no page out.
  for (const s of [...model.slices]) dropSlice(s);
  input.release();
  input.close();
  expect(input.heldBytes).toBe(0);
  expect(pool.stats.outstandingPages).toBe(0);
}

describe('InputBuffer against a byte-array model', () => {
  it('reads, slices, releases and closes agree with the model and leak no page', () => {
    fc.assert(
      fc.property(
        fc.array(inputOpArb, { minLength: 5, maxLength: 80, size: 'max' }),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        fc.oneof(
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 400 }) },
          { weight: 3, arbitrary: fc.constant(100_000) },
        ),
        (ops, poison, quarantinePages, maxBytes) => runInput(ops, poison, quarantinePages, maxBytes),
      ),
      { seed: 19_0001, numRuns: 200 },
    );
  });
});

// ---- OutputBuffer ----

type OutputOp =
  | { op: 'writeBytes' | 'writeOwned'; bytes: Uint8Array }
  | { op: 'writeString'; s: string }
  | { op: 'malloc'; n: number; fill: number }
  | { op: 'commit' | 'close' }
  | { op: 'send'; accept: number; writes: number };

const outputOpArb: fc.Arbitrary<OutputOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constantFrom('writeBytes' as const, 'writeOwned' as const),
      bytes: chunkArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('writeString' as const),
      s: fc.string({ unit: 'binary', maxLength: 50 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('malloc' as const),
      n: fc.oneof(
        fc.integer({ min: 0, max: 2 * PAGE_BYTES }),
        fc.constantFrom(PAGE_BYTES, PAGE_BYTES + 1, -1, 0.5),
      ),
      fill: fc.nat(255),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ op: 'commit' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('send' as const),
      accept: fc.integer({ min: 0, max: 100 }),
      writes: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'close' as const }) },
);

function runOutput(ops: readonly OutputOp[], poison: boolean): void {
  const pool = new PagePool({ pageBytes: PAGE_BYTES, poison, quarantinePages: 1 });
  const out = new OutputBuffer(pool);
  const pending: number[] = [];
  const committed: number[] = []; // everything ever committed, in order
  const received: number[] = []; // what the fake socket accepted
  let closed = false;
  let steps = 0;
  const write = (fn: () => void, bytes: ArrayLike<number>): void => {
    const got = outcome(fn);
    if (closed) return void expect(got).toEqual({ code: 'ErrConnClosed' });
    expect('value' in got).toBe(true);
    pending.push(...Array.from(bytes));
  };
  /** The fake socket: up to `writes` writes, each accepting at most `accept` bytes of the run offered. */
  const send = (accept: number, writes: number): void => {
    for (let w = 0; w < writes; w++) {
      const run = out.peekSend();
      if (run === undefined) break;
      const n = Math.min(accept, run.length);
      received.push(...run.subarray(0, n));
      out.ack(n);
    }
  };

  for (const op of ops) {
    steps++;
    switch (op.op) {
      case 'writeBytes':
        write(() => out.writeBytes(op.bytes), op.bytes);
        break;
      case 'writeOwned': {
        const owned = op.bytes.slice();
        write(() => out.writeOwned(owned), op.bytes);
        break;
      }
      case 'writeString':
        write(() => out.writeString(op.s), new TextEncoder().encode(op.s));
        break;
      case 'malloc': {
        const got = outcome(() => out.malloc(op.n));
        if (closed) expect(got).toEqual({ code: 'ErrConnClosed' });
        else if (!Number.isInteger(op.n) || op.n < 0) expect(got).toEqual({ code: 'ErrBadOption' });
        else if ('value' in got) {
          expect(got.value.length).toBe(op.n);
          got.value.fill(op.fill);
          pending.push(...new Array<number>(op.n).fill(op.fill));
        } else throw new Error(`malloc(${op.n}) failed`);
        break;
      }
      case 'commit': {
        const got = outcome(() => out.commit());
        if (closed) expect(got).toEqual({ code: 'ErrConnClosed' });
        else committed.push(...pending.splice(0));
        break;
      }
      case 'send':
        send(op.accept, op.writes);
        break;
      case 'close': {
        const dropped = out.close();
        expect(dropped).toBe(closed ? 0 : committed.length - received.length + pending.length);
        if (!closed) committed.splice(received.length);
        pending.length = 0;
        closed = true;
        expect(pool.stats.outstandingPages).toBe(0);
        break;
      }
    }
    // Received is always a prefix of what was committed: in order, exactly once.
    expect(received).toEqual(committed.slice(0, received.length));
    expect(out.bufferedBytes).toBe(pending.length);
    expect(out.unsentBytes).toBe(committed.length - received.length);
    expect(pool.stats.allocatedPages).toBeLessThanOrEqual(steps * 4); // a write of ≤ 2 pages + encoding
  }

  // Drain, then everything committed arrived exactly once; close leaks nothing.
  send(1000, 1_000_000);
  expect(received).toEqual(committed);
  expect(out.close()).toBe(closed ? 0 : pending.length);
  expect(pool.stats.outstandingPages).toBe(0);
}

describe('OutputBuffer against a byte-array model and a fake socket', () => {
  it('delivers what was committed, in order, exactly once, and leaks no page', () => {
    fc.assert(
      fc.property(
        fc.array(outputOpArb, { minLength: 5, maxLength: 80, size: 'max' }),
        fc.boolean(),
        (ops, poison) => runOutput(ops, poison),
      ),
      { seed: 19_0002, numRuns: 200 },
    );
  });
});
