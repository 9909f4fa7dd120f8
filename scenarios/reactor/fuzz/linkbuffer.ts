/**
 * Target reactor-linkbuffer: the reactor's link buffers (impl/reactor/link-buffer.ts InputBuffer,
 * LinkSlice, OutputBuffer over a PagePool) driven by an op sequence the input bytes spell (an op
 * byte, then its arguments; see OPS), against a plain byte-array model. Oracles: every read returns
 * the model's bytes or the model's typed error, views stay intact until the release that invalidates
 * them, length / heldBytes / bufferedBytes / unsentBytes match, and what the fake socket received is
 * what was committed, in order, exactly once (output-differs, wrong-error, missed-error); only
 * ReactorError is ever thrown (untyped-error); heldBytes stays ≤ maxBytes, at most one fresh page per
 * op, one-off copies only for straddling reads above a page, and no page is left out once everything
 * is released and closed (alloc-over-limit); the ops and the drain stay within a step budget (hang).
 * Cuts are ignored: chunk boundaries come from the append ops. Pure and isomorphic.
 */
import fc from 'fast-check';
import { feature, type Coverage } from '../../../fuzz/coverage.js';
import { describeError } from '../../../fuzz/engine.js';
import type { FuzzInput } from '../../../fuzz/input.js';
import type {
  ExecContext,
  Finding,
  FuzzTarget,
  MutationHints,
  OracleId,
  TargetRunner,
} from '../../../fuzz/target.js';
import { isReactorError, type ReactorErrorCode } from '../../../impl/reactor/errors.js';
import { InputBuffer, OutputBuffer, type LinkSlice } from '../../../impl/reactor/link-buffer.js';
import { PagePool } from '../../../impl/reactor/pages.js';
import type { FuzzImpl } from '../../stack.js';

/** A configuration the knob selects. */
interface LinkBufferConfig {
  pageBytes: number;
  poison: boolean;
  quarantinePages: number;
  /** InputBuffer maxBytes. */
  maxBytes: number;
}

/** Configurations: small checked pages, a tight input bound, the production page size, an odd size. */
export const LINKBUFFER_CONFIGS: readonly LinkBufferConfig[] = [
  { pageBytes: 64, poison: true, quarantinePages: 0, maxBytes: 100_000 },
  { pageBytes: 64, poison: true, quarantinePages: 3, maxBytes: 300 },
  { pageBytes: 8192, poison: false, quarantinePages: 0, maxBytes: 1 << 20 },
  { pageBytes: 100, poison: true, quarantinePages: 1, maxBytes: 1000 },
];

/** The op byte (mod OPS.length) and the argument bytes that follow it. */
export const OPS = [
  'append', // len u8, then len content bytes
  'appendBig', // len u8 (×32 bytes), seed u8: generated content
  'peek', // n u8 (255: all, 254: all + 1)
  'next', // n
  'skip', // n
  'until', // delimiter u8
  'indexOf', // delimiter u8
  'readBytes', // n
  'readString', // n
  'readU8',
  'readU16BE',
  'readU32BE',
  'peekU32BE',
  'slice', // n
  'sliceRead', // slice index u8, read op u8, arg u8
  'sliceRelease', // slice index u8
  'release',
  'end',
  'close',
  'writeBytes', // len u8, then len content bytes
  'malloc', // size u8 (< 200: bytes, else (b - 200) × 64), fill u8
  'writeString', // len u8, then len bytes decoded as UTF-8
  'writeOwned', // len u8, then len content bytes
  'commit',
  'send', // accept u8, writes u8 (mod 4, + 1)
  'outClose',
] as const;
type OpName = (typeof OPS)[number];

/** The read ops a slice takes (sliceRead's second argument, mod this length). */
const SLICE_READS = [
  'peek',
  'next',
  'skip',
  'until',
  'indexOf',
  'readBytes',
  'readString',
  'readU8',
  'readU16BE',
  'readU32BE',
  'peekU32BE',
  'bytes',
] as const;
type ReadName = Exclude<(typeof SLICE_READS)[number], 'bytes'>;

/** Views re-checked after every op (per reader); all are checked at each release. */
const RECENT_VIEWS = 8;

// Coverage feature kinds.
const K_OP = 1;
const K_HELD = 2;
const K_SLICES = 3;
const K_PAGES = 4;
const K_END = 5;

/** Thrown inside an exec to stop it with a finding. */
class FindingSignal extends Error {
  override readonly name = 'FindingSignal';
  constructor(readonly finding: Finding) {
    super(finding.message);
  }
}

function fail(oracle: OracleId, message: string): never {
  throw new FindingSignal({ oracle, message });
}

function sameBytes(a: Uint8Array, b: readonly number[] | Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

/** The model of a reader: unread bytes, and the code reads fail with once it is closed / released. */
interface ReaderModel {
  unread: number[];
  refusedWith: ReactorErrorCode | null;
}

interface KeptView {
  view: Uint8Array;
  expected: number[];
  what: string;
}

interface LiveSlice {
  real: LinkSlice;
  model: ReaderModel;
  from: number;
  to: number;
  kept: KeptView[];
}

/** What a reader (InputBuffer or LinkSlice) offers. */
type Reader = Pick<InputBuffer, ReadName | 'length'>;

/** Reads the op stream: bytes past the end read as 0 (the sequence ends at the next op byte). */
class OpStream {
  at = 0;
  constructor(private readonly data: Uint8Array) {}
  get done(): boolean {
    return this.at >= this.data.length;
  }
  u8(): number {
    return this.data[this.at++] ?? 0;
  }
  bytes(n: number): Uint8Array {
    const out = this.data.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

/** One exec's state: the real buffers and their models. */
class Exec {
  readonly pool: PagePool;
  readonly input: InputBuffer;
  readonly output: { readonly real: OutputBuffer; closed: boolean };
  readonly model: ReaderModel & { ended: boolean; position: number; releasedTo: number };
  chunks: { from: number; to: number }[] = [];
  appended = 0;
  slices: LiveSlice[] = [];
  kept: KeptView[] = [];
  pending: number[] = [];
  committed: number[] = [];
  received = 0;
  ops = 0;
  // One-off copies serve only straddling reads above a page (each at most what was buffered) and big mallocs.
  oversizeBound = 0;
  mallocOversize = 0;

  constructor(
    readonly config: LinkBufferConfig,
    private readonly cov: Coverage,
  ) {
    this.pool = new PagePool({
      pageBytes: config.pageBytes,
      poison: config.poison,
      quarantinePages: config.quarantinePages,
    });
    this.input = new InputBuffer(this.pool, { maxBytes: config.maxBytes });
    this.output = { real: new OutputBuffer(this.pool), closed: false };
    this.model = { unread: [], refusedWith: null, ended: false, position: 0, releasedTo: 0 };
  }

  /** Chunk bytes the model holds: unreleased (while open) or overlapping a live slice. */
  heldBytes(): number {
    let held = 0;
    for (const c of this.chunks) {
      const unreleased = this.model.refusedWith === null && c.to > this.model.releasedTo;
      const pinned = this.slices.some((s) => s.to > s.from && c.from < s.to && c.to > s.from);
      if (unreleased || pinned) held += c.to - c.from;
    }
    return held;
  }

  /** Runs `real` and compares its outcome with the model's expected error code (null: must succeed). */
  outcome<T>(what: string, expected: ReactorErrorCode | null, real: () => T): T | undefined {
    let value: T;
    try {
      value = real();
    } catch (e) {
      if (e instanceof FindingSignal) throw e;
      if (!isReactorError(e)) fail('untyped-error', `${what} threw ${describeError(e)}`);
      if (expected === null)
        fail('wrong-error', `${what} threw ${e.code} (${e.message}); the model expects success`);
      if (e.code !== expected) fail('wrong-error', `${what} threw ${e.code}; the model expects ${expected}`);
      return undefined;
    }
    if (expected !== null) fail('missed-error', `${what} succeeded; the model expects ${expected}`);
    return value;
  }

  /** n from an argument byte: 255 is everything buffered, 254 one past it, else the byte. */
  static amount(b: number, length: number): number {
    return b === 255 ? length : b === 254 ? length + 1 : b;
  }

  /** Applies a read op to a reader and its model; returns the bytes it advanced. */
  read(real: Reader, model: ReaderModel, op: ReadName, arg: number, kept: KeptView[], where: string): number {
    const len = model.unread.length;
    const countError = (n: number): ReactorErrorCode | null =>
      model.refusedWith ?? (n <= len ? null : 'ErrNotEnough');
    const what = (n: number | string): string => `${where}.${op}(${n}) with ${len} buffered`;
    this.oversizeBound += len > this.config.pageBytes ? len : 0;
    switch (op) {
      case 'peek':
      case 'next':
      case 'readBytes': {
        const n = Exec.amount(arg, len);
        const got = this.outcome(what(n), countError(n), () => real[op](n));
        if (got === undefined) return 0;
        const want = op === 'peek' ? model.unread.slice(0, n) : model.unread.splice(0, n);
        if (!sameBytes(got, want))
          fail('output-differs', `${what(n)} returned bytes that differ from the model's`);
        if (op !== 'readBytes') kept.push({ view: got, expected: want, what: what(n) });
        return op === 'peek' ? 0 : n;
      }
      case 'skip': {
        const n = Exec.amount(arg, len);
        if (this.outcome(what(n), countError(n), () => (real.skip(n), true)) === undefined) return 0;
        model.unread.splice(0, n);
        return n;
      }
      case 'readString': {
        const n = Exec.amount(arg, len);
        const got = this.outcome(what(n), countError(n), () => real.readString(n));
        if (got === undefined) return 0;
        const want = utf8.decode(Uint8Array.from(model.unread.splice(0, n)));
        if (got !== want)
          fail(
            'output-differs',
            `${what(n)} decoded ${JSON.stringify(got)}; the model ${JSON.stringify(want)}`,
          );
        return n;
      }
      case 'until':
      case 'indexOf':
        return this.delimited(real, model, op, arg, kept, what(arg));
      default: {
        const width = op === 'readU8' ? 1 : op === 'readU16BE' ? 2 : 4;
        const got = this.outcome(what(''), countError(width), () => real[op]());
        if (got === undefined) return 0;
        const bytes = op === 'peekU32BE' ? model.unread.slice(0, width) : model.unread.splice(0, width);
        const want = bytes.reduce((v, b) => v * 256 + b, 0);
        if (got !== want) fail('output-differs', `${what('')} returned ${got}; the model ${want}`);
        return op === 'peekU32BE' ? 0 : width;
      }
    }
  }

  private delimited(
    real: Reader,
    model: ReaderModel,
    op: 'until' | 'indexOf',
    delimiter: number,
    kept: KeptView[],
    what: string,
  ): number {
    const at = model.unread.indexOf(delimiter);
    if (op === 'indexOf') {
      const got = this.outcome(what, model.refusedWith, () => real.indexOf(delimiter));
      if (got !== undefined && got !== at) fail('output-differs', `${what} returned ${got}; the model ${at}`);
      return 0;
    }
    const got = this.outcome(what, model.refusedWith, () => real.until(delimiter));
    if (model.refusedWith !== null) return 0;
    if (at < 0) {
      if (got !== null)
        fail('output-differs', `${what} returned ${got?.length} bytes; the model has no delimiter`);
      return 0;
    }
    const want = model.unread.splice(0, at + 1);
    if (got === null || got === undefined || !sameBytes(got, want))
      fail(
        'output-differs',
        `${what} returned ${got === null ? 'null' : 'other bytes'}; the model ${at + 1} bytes`,
      );
    kept.push({ view: got, expected: want, what });
    return at + 1;
  }

  /** Views of a reader must still show their bytes until the release that invalidates them. */
  checkKept(kept: readonly KeptView[], when: string): void {
    for (const k of kept)
      if (!sameBytes(k.view, k.expected))
        fail('output-differs', `a view from ${k.what} changed before its release (${when})`);
  }

  /** After every op: counters agree with the model, recent views are intact, bounds hold; plus coverage. */
  afterOp(op: OpName, opIndex: number): void {
    const where = `after op ${this.ops} (${op})`;
    // The most recent views only (all of them are checked at each release): bounds the work per op.
    this.checkKept(this.kept.slice(-RECENT_VIEWS), where);
    for (const s of this.slices) this.checkKept(s.kept.slice(-RECENT_VIEWS), where);
    if (this.input.length !== this.model.unread.length)
      fail('output-differs', `${where}: length ${this.input.length}, the model ${this.model.unread.length}`);
    const held = this.heldBytes();
    if (this.input.heldBytes !== held)
      fail('output-differs', `${where}: heldBytes ${this.input.heldBytes}, the model ${held}`);
    if (this.input.heldBytes > this.config.maxBytes)
      fail(
        'alloc-over-limit',
        `${where}: heldBytes ${this.input.heldBytes} above maxBytes ${this.config.maxBytes}`,
      );
    const out = this.output.real;
    if (out.bufferedBytes !== this.pending.length)
      fail(
        'output-differs',
        `${where}: bufferedBytes ${out.bufferedBytes}, the model ${this.pending.length}`,
      );
    if (out.unsentBytes !== this.committed.length - this.received)
      fail(
        'output-differs',
        `${where}: unsentBytes ${out.unsentBytes}, the model ${this.committed.length - this.received}`,
      );
    const stats = this.pool.stats;
    // A write of ≤ 255 bytes or a malloc spans at most a few pages; a read takes at most one.
    const pageBound = this.ops * (Math.ceil(255 / this.config.pageBytes) + 2);
    if (stats.allocatedPages > pageBound)
      fail('alloc-over-limit', `${where}: ${stats.allocatedPages} pages allocated in ${this.ops} ops`);
    if (stats.oversizeBytes > this.oversizeBound + this.mallocOversize)
      fail(
        'alloc-over-limit',
        `${where}: ${stats.oversizeBytes} one-off bytes, at most ${this.oversizeBound + this.mallocOversize} expected`,
      );
    const cov = this.cov;
    cov.hit(feature(K_OP, opIndex | (Math.min(stats.outstandingPages, 7) << 5)));
    cov.hit(feature(K_HELD, held === 0 ? 0 : 32 - Math.clz32(held)));
    cov.hit(feature(K_SLICES, Math.min(this.slices.length, 7)));
    cov.hit(feature(K_PAGES, Math.min(stats.reusedTakes, 15)));
  }
}

/** Runs one op and returns its name; null when the op stream is exhausted. */
function step(x: Exec, ops: OpStream): OpName | null {
  if (ops.done) return null;
  const op = OPS[ops.u8() % OPS.length] ?? 'release';
  x.ops++;
  switch (op) {
    case 'append':
      return (append(x, ops.bytes(ops.u8())), op);
    case 'appendBig': {
      const len = ops.u8() * 32;
      const seed = ops.u8();
      return (
        append(
          x,
          Uint8Array.from({ length: len }, (_, i) => (seed + i * 7) & 0xff),
        ),
        op
      );
    }
    case 'slice':
      return (slice(x, ops.u8()), op);
    case 'sliceRead':
    case 'sliceRelease':
      return (sliceOp(x, op, ops), op);
    case 'release':
      x.checkKept(x.kept, 'release');
      x.input.release();
      x.kept = [];
      if (x.model.refusedWith === null) x.model.releasedTo = x.model.position;
      // release() gives back every straddle-copy page the buffer took (slices hold their own).
      if (x.input.copyBytes !== 0)
        fail('alloc-over-limit', `${x.input.copyBytes} copy bytes still held after release()`);
      return op;
    case 'end':
      x.input.end();
      x.model.ended = true;
      return op;
    case 'close':
      x.checkKept(x.kept, 'close');
      x.input.close();
      x.kept = [];
      x.model.refusedWith = 'ErrConnClosed';
      x.model.unread = [];
      return op;
    case 'writeBytes':
    case 'malloc':
    case 'writeString':
    case 'writeOwned':
    case 'commit':
    case 'send':
    case 'outClose':
      return (outputOp(x, op, ops), op);
    default: {
      const arg =
        op === 'readU8' || op === 'readU16BE' || op === 'readU32BE' || op === 'peekU32BE' ? 0 : ops.u8();
      x.model.position += x.read(x.input, x.model, op, arg, x.kept, 'input');
      return op;
    }
  }
}

function append(x: Exec, chunk: Uint8Array): void {
  const m = x.model;
  const size = chunk.length;
  const expected =
    m.refusedWith ??
    (m.ended ? 'ErrConnClosed' : null) ??
    (size > 0 && x.heldBytes() + size > x.config.maxBytes ? 'ErrInputOverflow' : null);
  const ok = x.outcome(`append(${size} bytes)`, expected, () => (x.input.append(chunk.slice()), true));
  if (ok === undefined || size === 0) return;
  x.chunks.push({ from: x.appended, to: x.appended + size });
  x.appended += size;
  for (const b of chunk) m.unread.push(b);
}

function slice(x: Exec, arg: number): void {
  const m = x.model;
  const n = Exec.amount(arg, m.unread.length);
  const expected = m.refusedWith ?? (n <= m.unread.length ? null : 'ErrNotEnough');
  const real = x.outcome(`slice(${n}) with ${m.unread.length} buffered`, expected, () => x.input.slice(n));
  if (real === undefined) return;
  const bytes = m.unread.splice(0, n);
  x.slices.push({
    real,
    model: { unread: bytes, refusedWith: null },
    from: m.position,
    to: m.position + n,
    kept: [],
  });
  m.position += n;
}

function sliceOp(x: Exec, op: 'sliceRead' | 'sliceRelease', ops: OpStream): void {
  const k = ops.u8();
  const read = op === 'sliceRead' ? SLICE_READS[ops.u8() % SLICE_READS.length] : undefined;
  const arg = op === 'sliceRead' ? ops.u8() : 0;
  const s = x.slices[k % Math.max(1, x.slices.length)];
  if (s === undefined) return;
  if (op === 'sliceRelease') {
    x.checkKept(s.kept, 'slice release');
    s.real.release();
    x.slices.splice(x.slices.indexOf(s), 1);
    x.outcome('a released slice read', 'ErrReleased', () => s.real.peek(0));
    return;
  }
  if (read === 'bytes') {
    x.oversizeBound += s.model.unread.length > x.config.pageBytes ? s.model.unread.length : 0;
    const got = s.real.bytes();
    if (!sameBytes(got, s.model.unread))
      fail('output-differs', `slice.bytes() differs from the model's ${s.model.unread.length} bytes`);
    s.kept.push({ view: got, expected: [...s.model.unread], what: 'slice.bytes()' });
  } else if (read !== undefined) {
    x.read(s.real, s.model, read, arg, s.kept, 'slice');
  }
  x.checkKept(s.kept, 'slice read');
}

function outputOp(x: Exec, op: OpName, ops: OpStream): void {
  const out = x.output.real;
  const closedCode = x.output.closed ? 'ErrConnClosed' : null;
  switch (op) {
    case 'writeBytes':
    case 'writeOwned': {
      const bytes = ops.bytes(ops.u8());
      const mine = bytes.slice();
      const ok = x.outcome(`${op}(${bytes.length} bytes)`, closedCode, () =>
        op === 'writeBytes' ? (out.writeBytes(mine), true) : (out.writeOwned(mine), true),
      );
      if (ok !== undefined) for (const b of bytes) x.pending.push(b);
      return;
    }
    case 'writeString': {
      const s = utf8.decode(ops.bytes(ops.u8()));
      const ok = x.outcome(`writeString(${s.length} units)`, closedCode, () => (out.writeString(s), true));
      if (ok !== undefined) for (const b of encoder.encode(s)) x.pending.push(b);
      return;
    }
    case 'malloc': {
      const b = ops.u8();
      const fill = ops.u8();
      const n = b < 200 ? b : (b - 200) * 64;
      const view = x.outcome(`malloc(${n})`, closedCode, () => out.malloc(n));
      if (view === undefined) return;
      if (view.length !== n) fail('output-differs', `malloc(${n}) returned ${view.length} bytes`);
      if (n > x.config.pageBytes) x.mallocOversize += n;
      view.fill(fill);
      for (let i = 0; i < n; i++) x.pending.push(fill);
      return;
    }
    case 'commit':
      if (x.outcome('commit()', closedCode, () => (out.commit(), true)) !== undefined)
        for (const b of x.pending.splice(0)) x.committed.push(b);
      return;
    case 'send':
      send(x, ops.u8(), (ops.u8() % 4) + 1);
      return;
    default: {
      const dropped = out.close();
      const want = x.output.closed ? 0 : x.committed.length - x.received + x.pending.length;
      if (dropped !== want)
        fail('output-differs', `OutputBuffer.close() dropped ${dropped} bytes; the model ${want}`);
      if (!x.output.closed) x.committed.length = x.received;
      x.pending = [];
      x.output.closed = true;
    }
  }
}

/** The fake socket: up to `writes` writes of at most `accept` bytes each; bytes must be the committed ones, in order. */
function send(x: Exec, accept: number, writes: number): void {
  const out = x.output.real;
  for (let w = 0; w < writes; w++) {
    const run = out.peekSend();
    if (run === undefined) return;
    if (run.length === 0) fail('hang', 'peekSend offered an empty run');
    const n = Math.min(accept, run.length);
    for (let i = 0; i < n; i++) {
      if (run[i] !== x.committed[x.received + i])
        fail(
          'output-differs',
          `the socket received a byte at output offset ${x.received + i} that differs from what was committed`,
        );
    }
    x.received += n;
    x.outcome(`ack(${n})`, null, () => (out.ack(n), true));
  }
}

/** After the ops: drain, release everything, close; then no page may be out. */
function finish(x: Exec, cov: Coverage): void {
  const out = x.output.real;
  const unsent = x.committed.length - x.received;
  let writes = 0;
  while (out.peekSend() !== undefined) {
    if (++writes > unsent + 1)
      fail('hang', `draining ${unsent} unsent bytes took more than ${unsent + 1} writes`);
    send(x, 1 << 20, 1);
  }
  if (x.received !== x.committed.length)
    fail('output-differs', `the socket received ${x.received} bytes; ${x.committed.length} were committed`);
  for (const s of [...x.slices]) {
    x.checkKept(s.kept, 'final slice release');
    s.real.release();
  }
  x.slices = [];
  x.checkKept(x.kept, 'final release');
  x.input.release();
  x.input.close();
  out.close();
  const stats = x.pool.stats;
  cov.hit(feature(K_END, Math.min(x.ops, 63) | (stats.allocatedPages > 0 ? 64 : 0)));
  if (x.input.heldBytes !== 0)
    fail('alloc-over-limit', `${x.input.heldBytes} input bytes still held after release and close`);
  if (stats.outstandingPages !== 0)
    fail(
      'alloc-over-limit',
      `${stats.outstandingPages} pages still out after everything was released and closed (a page leak)`,
    );
}

class LinkBufferRunner implements TargetRunner {
  exec(input: FuzzInput, ctx: ExecContext): Finding | null {
    const config = LINKBUFFER_CONFIGS[input.knob % LINKBUFFER_CONFIGS.length] ?? LINKBUFFER_CONFIGS[0]!;
    const ops = new OpStream(input.data);
    try {
      const x = new Exec(config, ctx.coverage);
      // Every op consumes at least its op byte: more ops than bytes is a bug in this interpreter.
      for (let op = step(x, ops); op !== null; op = step(x, ops)) {
        if (x.ops > input.data.length) fail('hang', `${x.ops} ops from ${input.data.length} bytes`);
        x.afterOp(op, OPS.indexOf(op));
      }
      finish(x, ctx.coverage);
      return null;
    } catch (e) {
      if (e instanceof FindingSignal) return e.finding;
      return { oracle: 'untyped-error', message: `after ${ops.at} input bytes: ${describeError(e)}` };
    }
  }
}

/** The op sequence a structured seed spells, as bytes. */
function encodeOps(parts: readonly (readonly number[])[]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

const op = (name: OpName): number => OPS.indexOf(name);

/** Structured units: an append with content, a read with an argument, a slice op, an output op. */
const unitArb: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 80 }).map((c) => [op('append'), c.length, ...c]) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.nat(12), fc.nat(255)).map(([len, seed]) => [op('appendBig'), len, seed]),
  },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...OPS.slice(2, 14).map(op)),
        fc.oneof(fc.nat(80), fc.constantFrom(255, 254, 0, 10)),
      )
      .map(([o, arg]) => [o, arg]),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.nat(3), fc.nat(11), fc.nat(255)).map(([k, r, a]) => [op('sliceRead'), k, r, a]),
  },
  { weight: 1, arbitrary: fc.nat(3).map((k) => [op('sliceRelease'), k]) },
  { weight: 2, arbitrary: fc.constant([op('release')]).map((u) => [...u]) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 100 }).map((c) => [op('writeBytes'), c.length, ...c]) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(255), fc.nat(255)).map(([n, f]) => [op('malloc'), n, f]) },
  { weight: 2, arbitrary: fc.constant([op('commit')]).map((u) => [...u]) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(255), fc.nat(3)).map(([a, w]) => [op('send'), a, w]) },
);

const inputArb: fc.Arbitrary<FuzzInput> = fc
  .record({ knob: fc.nat(LINKBUFFER_CONFIGS.length - 1), units: fc.array(unitArb, { maxLength: 30 }) })
  .map(({ knob, units }) => ({ data: encodeOps(units), cuts: [], knob }));

/** Offsets of the argument bytes of each op (where interesting counts belong). */
function argOffsets(data: Uint8Array): number[] {
  const out: number[] = [];
  let at = 0;
  while (at < data.length && out.length < 256) {
    const name = OPS[(data[at] ?? 0) % OPS.length] ?? 'release';
    at++;
    if (name === 'append' || name === 'writeBytes' || name === 'writeOwned' || name === 'writeString') {
      out.push(at);
      at += 1 + (data[at] ?? 0);
    } else if (name === 'sliceRead') {
      out.push(at + 2);
      at += 3;
    } else if (name === 'appendBig' || name === 'malloc' || name === 'send') {
      out.push(at);
      at += 2;
    } else if (
      ![
        'release',
        'end',
        'close',
        'commit',
        'outClose',
        'readU8',
        'readU16BE',
        'readU32BE',
        'peekU32BE',
      ].includes(name)
    ) {
      out.push(at);
      at += 1;
    }
  }
  return out;
}

const HINTS: MutationHints = {
  // Counts around a page and the "everything" / "one past" codes.
  interesting: (knob) => {
    const page = (LINKBUFFER_CONFIGS[knob % LINKBUFFER_CONFIGS.length] ?? LINKBUFFER_CONFIGS[0]!).pageBytes;
    return [0, 1, 3, 4, page - 1, page, page + 1, 254, 255]
      .filter((n) => n <= 255)
      .map((n) => Uint8Array.of(n));
  },
  fields: (input) => argOffsets(input.data),
  unit: (rng) => {
    const sample = fc.sample(unitArb, { seed: Math.floor(rng.next() * 0x7fffffff), numRuns: 1 })[0] ?? [
      op('release'),
    ];
    return Uint8Array.from(sample);
  },
};

/** The implementations reactor-linkbuffer takes: netlab's only (no museum variant yet). */
export function linkBufferFuzzImpls(): ReadonlyMap<string, FuzzImpl> {
  return new Map([['netlab', { name: 'netlab', summary: 'impl/reactor/link-buffer.ts as built' }]]);
}

export const REACTOR_LINKBUFFER: FuzzTarget = {
  name: 'reactor-linkbuffer',
  summary:
    "the reactor's link buffers (InputBuffer, LinkSlice, OutputBuffer, PagePool) against a byte-array model",
  knobs: LINKBUFFER_CONFIGS.map(
    (c) =>
      `pageBytes ${c.pageBytes}, maxBytes ${c.maxBytes}, ${c.poison ? `checking (quarantine ${c.quarantinePages})` : 'no checking'}`,
  ),
  async: false,
  takesDecoderImpl: false,
  maxLenBytes: 4096,
  hints: HINTS,
  seeds(seed, count) {
    return fc.sample(inputArb, { seed, numRuns: count });
  },
  runner() {
    return new LinkBufferRunner();
  },
};
