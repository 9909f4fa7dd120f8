/**
 * Target sp-stream: the whole receive path of a live socket. A fresh simulated world per exec: a
 * socket of the protocol the knob picks listens on host a; a raw peer on host b connects and writes
 * the input (connection header + frames, any bytes) in the input's chunks, 200 µs apart, so the pipe
 * meets them split exactly there. Oracles: the world never fails (nothing escapes into the event
 * loop); the application receives exactly the messages the model predicts (sp-handshake's model,
 * frame-model.ts, then the protocol's own header rules: PAIR1 hop count <= TTL 8, REP0 and
 * RESPONDENT0 backtrace with an id word within TTL 8 words; PAIR0, PULL0 and BUS0 take bodies as
 * they are); 20 ms after the last byte the pipe is closed exactly when the model says the stream is
 * bad (bad header, wrong peer, ErrTooLong), and a header cut short is closed by HANDSHAKE-TIMEOUT;
 * no allocation exceeds the limit (the socket's allocator is the checking pool); the run stays
 * within an event budget (a hang).
 */
import fc from 'fast-check';
import type { Message } from '../../../impl/sp/core/message.js';
import type { Socket, SocketOptions } from '../../../impl/sp/core/socket.js';
import { SpError, type SpErrorCode } from '../../../impl/sp/errors.js';
import type { Env, StreamConn } from '../../../impl/runtime/env.js';
import { openBus0 } from '../../../impl/sp/protocol/bus.js';
import { openPair0 } from '../../../impl/sp/protocol/pair0.js';
import { openPair1 } from '../../../impl/sp/protocol/pair1.js';
import { openPull0 } from '../../../impl/sp/protocol/pipeline.js';
import { openRep0 } from '../../../impl/sp/protocol/rep0.js';
import { openRespondent0 } from '../../../impl/sp/protocol/survey.js';
import { DEFAULT_MAX_RECV_BYTES, encodeFrame } from '../../../impl/sp/wire/frames.js';
import { encodeHandshake } from '../../../impl/sp/wire/handshake.js';
import { protocolByName } from '../../../impl/sp/wire/protocols.js';
import { Network } from '../../../sim/net.js';
import type { Rng } from '../../../sim/rng.js';
import { World } from '../../../sim/world.js';
import { feature, type Coverage } from '../../../fuzz/coverage.js';
import { describeError } from '../../../fuzz/engine.js';
import { chunksOf, normalizeCuts, type FuzzInput } from '../../../fuzz/input.js';
import { decoderImpls } from './impls.js';
import type { ExecContext, Finding, FuzzTarget, TargetRunner } from '../../../fuzz/target.js';
import { CheckingPool, concat, u32Bytes, u64Bytes } from './common.js';
import { FrameModel } from './frame-model.js';
import { interestingLengths } from './frames.js';
import { modelHandshake } from './handshake.js';
import { modelBacktraceWords } from './headers.js';

type HeaderRule = 'none' | 'hop' | 'backtrace';

const EMPTY = new Uint8Array(0);

interface StreamProtocol {
  name: string;
  open(env: Env, options: SocketOptions): Socket;
  rule: HeaderRule;
}

const PROTOCOLS: readonly StreamProtocol[] = [
  { name: 'pair0', open: openPair0, rule: 'none' },
  { name: 'pull0', open: openPull0, rule: 'none' },
  { name: 'bus0', open: openBus0, rule: 'none' },
  { name: 'pair1', open: openPair1, rule: 'hop' },
  { name: 'rep0', open: openRep0, rule: 'backtrace' },
  { name: 'respondent0', open: openRespondent0, rule: 'backtrace' },
];
/** MAX-RCV-SIZE values: the default, a small one (max+1 is cheap to reach), none. */
const LIMITS: readonly number[] = [DEFAULT_MAX_RECV_BYTES, 64, 0];
/** PAIR1 and REP0/RESPONDENT0 TTL (the default, as the sockets here use it). */
const TTL = 8;
const HANDSHAKE_TIMEOUT_US = 10_000_000;
const IPC_ADDRESS = 'ipc:///tmp/netlab-fuzz.sock';
const CHUNK_GAP_US = 200;
const SETTLE_US = 20_000;
/** Simulated events one exec may take: far above what any input of --max-len needs. */
const MAX_EVENTS_PER_EXEC = 200_000;

/**
 * How the application and the peer behave:
 * - drain: the application reads from the start; the peer closes after the checkpoint.
 * - late-reader: READQ-LEN 1 and the application starts reading only after every byte was sent,
 *   so the pipe pauses with decoded messages held back and bytes left in the TCP window.
 * - late-reader+close: the same, and the peer closes right after its last byte (a clean close:
 *   every message it sent before must still be delivered).
 */
const MODES = ['drain', 'late-reader', 'late-reader+close'] as const;
type Mode = (typeof MODES)[number];
/** Transports, outermost in the knob (tcp knobs keep their numbers as ipc joins after them). */
const TRANSPORTS = ['tcp', 'ipc'] as const;
type Transport = (typeof TRANSPORTS)[number];
const KNOBS_PER_TRANSPORT = PROTOCOLS.length * LIMITS.length * MODES.length;
const KNOB_COUNT = KNOBS_PER_TRANSPORT * TRANSPORTS.length;

/** What a knob picks: the listening socket's protocol, its MAX-RCV-SIZE, the mode and the transport. */
interface StreamKnob {
  readonly proto: StreamProtocol;
  readonly max: number;
  readonly mode: Mode;
  readonly transport: Transport;
}

/** A knob's parts: the protocol varies fastest, then the limit, the mode, and the transport outermost. */
function knobParts(knob: number): StreamKnob {
  const t = knob % KNOB_COUNT;
  const k = t % KNOBS_PER_TRANSPORT;
  const perMode = PROTOCOLS.length * LIMITS.length;
  const m = k % perMode;
  return {
    proto: PROTOCOLS[m % PROTOCOLS.length]!,
    max: LIMITS[Math.floor(m / PROTOCOLS.length)]!,
    mode: MODES[Math.floor(k / perMode)]!,
    transport: TRANSPORTS[Math.floor(t / KNOBS_PER_TRANSPORT)]!,
  };
}

/** What the model expects the application to receive: header and body as offsets into the input. */
interface Expected {
  headerAt: number;
  headerLen: number;
  bodyAt: number;
  bodyLen: number;
}

const K_HANDSHAKE = 1;
const K_FRAME = 2;
const K_RULE = 3;
const K_CLOSE = 4;
const K_CUT = 5;

/** What the model predicts for one input, before the exchange runs. */
interface StreamPrediction {
  /** The connection header's verdict: the peer's id, or the error it must fail with. */
  readonly handshake: ReturnType<typeof modelHandshake>;
  /** The input holds a whole 8-byte connection header. */
  readonly complete: boolean;
  /** The stream is bad (bad header, wrong peer, ErrTooLong): the server must close the pipe. */
  readonly expectBad: boolean;
  /** The messages the application must receive, in order. */
  readonly expected: readonly Expected[];
}

/** One exec's simulated world: the listening socket on host a, and the peer's host. */
interface StreamExchange {
  readonly world: World;
  /** Host a: the socket's. */
  readonly serverHost: Env;
  /** Host b: the raw peer's over tcp (over ipc the peer connects from host a). */
  readonly peerHost: Env;
  readonly server: Socket;
  readonly seen: StreamSeen;
}

/** What the exchange showed, recorded as the world runs. */
interface StreamSeen {
  /** What the application received, in order. */
  readonly got: Message[];
  /** What ended the application's recv loop (undefined: nothing did). */
  readerEnd: unknown;
  /** How the peer saw its connection end: 'clean' or the reset's code; null while open. */
  peerClosed: string | null;
  /** peerClosed once every byte was sent and the reader had SETTLE_US (late modes: twice). */
  closedAtCheckpoint: string | null;
  /** peerClosed after HANDSHAKE-TIMEOUT more (judged only for a header cut short). */
  closedAfterTimeout: string | null;
}

class StreamRunner implements TargetRunner {
  private readonly frames = new FrameModel();
  private readonly pool = new CheckingPool();

  constructor(private readonly impl: string) {}

  /** One input: the model's prediction, the exchange in a fresh world, then the oracles. */
  async exec(input: FuzzInput, ctx: ExecContext): Promise<Finding | null> {
    const knob = knobParts(input.knob);
    const prediction = this.predict(input, knob, ctx.coverage);
    const exchange = this.openExchange(knob);
    const chunks = chunksOf(input);
    let worldError: unknown = undefined;
    let settled = false;
    try {
      const done = runPeer(exchange, knob, chunks, prediction.complete).finally(() => {
        settled = true;
        exchange.world.stop();
      });
      done.catch(() => undefined);
      const r = await exchange.world.run({ maxEvents: MAX_EVENTS_PER_EXEC });
      if (!settled) {
        return {
          oracle: 'hang',
          message: `the exchange did not finish within ${MAX_EVENTS_PER_EXEC} simulated events (${r.reason} at t=${r.nowUs}us)`,
        };
      }
      await done;
    } catch (e) {
      worldError = e;
    }
    if (this.pool.finding !== null) return this.pool.finding;
    if (this.pool.refused) {
      ctx.skipped = true;
      return null;
    }
    if (worldError !== undefined)
      return {
        oracle: 'stream-misbehaved',
        message: `the simulated world failed: ${describeError(worldError)}`,
      };
    return judgeStream(input.data, knob, prediction, exchange.seen, this.frames.error, ctx.coverage);
  }

  /**
   * The model's prediction for `input`: the connection header (sp-handshake's model), then the frames
   * (frame-model.ts, left in this.frames), then the protocol's header rule on each payload. Counts
   * the coverage of each step and of the input's cuts.
   */
  private predict(input: FuzzInput, knob: StreamKnob, cov: Coverage): StreamPrediction {
    const data = input.data;
    const hs = modelHandshake(data, protocolByName(knob.proto.name)!.peerId);
    cov.hit(feature(K_HANDSHAKE, hs.check | (input.knob << 4)));
    const expected: Expected[] = [];
    let expectBad = false;
    const complete = data.length >= 8;
    if (complete && 'code' in hs) expectBad = true;
    const body = data.subarray(8);
    const m = this.frames;
    m.parse(complete && 'id' in hs ? body : EMPTY, knob.transport === 'ipc', knob.max);
    if (complete && 'id' in hs) {
      for (let i = 0; i < Math.min(m.classCount, 16); i++) cov.hit(feature(K_FRAME, m.classes[i]!));
      expectBad = m.error !== null;
      for (let i = 0; i < m.count; i++) {
        const e = applyRule(knob.proto.rule, body, m.starts[i]!, m.lens[i]!);
        cov.hit(feature(K_RULE, e === null ? 0 : 1 + Math.min(e.headerLen >> 2, 9)));
        if (e !== null) expected.push({ ...e, headerAt: e.headerAt + 8, bodyAt: e.bodyAt + 8 });
      }
    }
    for (const c of input.cuts) cov.hit(feature(K_CUT, c < 8 ? c : 8 + Math.min(c - 8, 7)));
    return { handshake: hs, complete, expectBad, expected };
  }

  /**
   * A fresh world for one exec: hosts a and b, and on a the knob's socket with the implementation's
   * frame decoder, allocating from the checking pool. The pool's bound is MAX-RCV-SIZE, or with no
   * limit the largest length the model saw announced (so call after predict()).
   */
  private openExchange({ proto, max, mode }: StreamKnob): StreamExchange {
    const decoder = decoderImpls().get(this.impl)!;
    this.pool.reset(
      max > 0 ? max : this.frames.maxAnnounced,
      max > 0 ? 'MAX-RCV-SIZE' : 'the largest length announced (MAX-RCV-SIZE 0)',
    );
    const world = new World({ seed: 'fuzz/sp-stream', trace: { hash: false }, traceTimers: false });
    const net = new Network(world);
    const a = net.addHost('a').env;
    const b = net.addHost('b').env;
    const server = proto.open(a, {
      options: {
        'MAX-RCV-SIZE': max,
        'HANDSHAKE-TIMEOUT': HANDSHAKE_TIMEOUT_US,
        ...(mode !== 'drain' ? { 'READQ-LEN': 1 } : {}),
      },
      allocator: this.pool,
      frameDecoder: decoder.factory,
    });
    const seen: StreamSeen = {
      got: [],
      readerEnd: undefined,
      peerClosed: null,
      closedAtCheckpoint: null,
      closedAfterTimeout: null,
    };
    return { world, serverHost: a, peerHost: b, server, seen };
  }
}

/** The application: receives until recv fails, recording each message and what ended it. */
async function readAll(server: Socket, seen: StreamSeen): Promise<void> {
  for (;;) {
    try {
      seen.got.push(await server.recvMsg());
    } catch (e) {
      seen.readerEnd = e;
      return;
    }
  }
}

/**
 * The exchange's script: the socket listens, the raw peer connects and writes the chunks
 * CHUNK_GAP_US apart (stopping once its connection is closed), the application reads from the start
 * (drain) or only once every byte was sent (late modes); the peer's view of the close is noted at
 * the checkpoint and, for a header cut short, after HANDSHAKE-TIMEOUT; then both ends close.
 */
async function runPeer(
  { serverHost: a, peerHost: b, server, seen }: StreamExchange,
  { mode, transport }: StreamKnob,
  chunks: readonly Uint8Array[],
  complete: boolean,
): Promise<void> {
  const ipc = transport === 'ipc';
  const late = mode !== 'drain';
  // ipc connects within one host: the peer then runs on the server's host.
  await server.listen(ipc ? IPC_ADDRESS : 'tcp://a:5555');
  const raw = await connect(
    ipc ? a : b,
    ipc ? IPC_ADDRESS : 'tcp://a:5555',
    (how) => (seen.peerClosed ??= how),
  );
  if (!late) void readAll(server, seen);
  for (const [i, chunk] of chunks.entries()) {
    if (i > 0) await b.sleep(CHUNK_GAP_US);
    if (seen.peerClosed !== null) break;
    raw.write(chunk);
  }
  if (mode === 'late-reader+close') raw.conn.close();
  await b.sleep(SETTLE_US);
  if (late) {
    void readAll(server, seen);
    await b.sleep(SETTLE_US);
  }
  seen.closedAtCheckpoint = seen.peerClosed;
  if (!complete && mode !== 'late-reader+close') {
    await b.sleep(HANDSHAKE_TIMEOUT_US);
    seen.closedAfterTimeout = seen.peerClosed;
  }
  if (raw.conn.state !== 'closed') raw.conn.close();
  await b.sleep(SETTLE_US);
  await server.close();
  await b.sleep(SETTLE_US);
}

/**
 * The oracles on what the exchange showed against the prediction (after counting the close's
 * coverage): recv ends with ErrClosed; the pipe closes exactly on a bad stream, and a header cut
 * short is closed by HANDSHAKE-TIMEOUT and not before; the application gets the expected messages.
 * `frameError` is the model's frame error, named when a bad stream was left open.
 */
function judgeStream(
  data: Uint8Array,
  { proto, max, mode, transport }: StreamKnob,
  prediction: StreamPrediction,
  seen: StreamSeen,
  frameError: SpErrorCode | null,
  cov: Coverage,
): Finding | null {
  const closeKind = (c: string | null): number => (c === null ? 0 : c === 'clean' ? 1 : 2);
  closeFeatures(cov, closeKind(seen.closedAtCheckpoint), closeKind(seen.closedAfterTimeout), seen.got.length);
  const label = `${proto.name} on ${transport}, MAX-RCV-SIZE ${max}, ${mode}`;
  const { readerEnd } = seen;
  if (!(readerEnd instanceof SpError) || readerEnd.code !== 'ErrClosed') {
    return {
      oracle: readerEnd instanceof SpError ? 'wrong-error' : 'untyped-error',
      message: `${label}: recv ended with ${describeError(readerEnd)}, want ErrClosed after close()`,
    };
  }
  // The peer's own close (late-reader+close) says nothing about the server: no close oracle then.
  if (mode !== 'late-reader+close') {
    const finding = judgeClose(label, data.length, prediction, seen, frameError);
    if (finding !== null) return finding;
  }
  return judgeMessages(label, data, prediction.expected, seen.got);
}

/** The close oracles: closed at the checkpoint exactly when the stream is bad; a short header only by the timeout. */
function judgeClose(
  label: string,
  inputBytes: number,
  { handshake: hs, complete, expectBad }: StreamPrediction,
  { closedAtCheckpoint, closedAfterTimeout }: StreamSeen,
  frameError: SpErrorCode | null,
): Finding | null {
  if (complete && (closedAtCheckpoint !== null) !== expectBad) {
    return {
      oracle: 'stream-misbehaved',
      message: expectBad
        ? `${label}: the pipe stayed open after a stream the model rejects (${'code' in hs ? hs.code : frameError})`
        : `${label}: the pipe closed (${String(closedAtCheckpoint)}) on a stream the model accepts`,
    };
  }
  if (!complete && closedAtCheckpoint !== null)
    return {
      oracle: 'stream-misbehaved',
      message: `${label}: closed before a ${inputBytes}-byte header was complete`,
    };
  if (!complete && closedAfterTimeout === null)
    return {
      oracle: 'hang',
      message: `${label}: a ${inputBytes}-byte header was still open after HANDSHAKE-TIMEOUT`,
    };
  return null;
}

/** The output oracle: the application received exactly the expected messages (headers and bodies). */
function judgeMessages(
  label: string,
  data: Uint8Array,
  expected: readonly Expected[],
  got: readonly Message[],
): Finding | null {
  if (got.length !== expected.length) {
    return {
      oracle: 'output-differs',
      message: `${label}: the application received ${got.length} messages; the model expects ${expected.length}`,
    };
  }
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!;
    const e = expected[i]!;
    if (!equalAt(g.header, data, e.headerAt, e.headerLen) || !equalAt(g.body, data, e.bodyAt, e.bodyLen)) {
      return {
        oracle: 'output-differs',
        message: `${label}: message ${i + 1} has a ${g.header.length}-byte header and ${g.body.length}-byte body; the model expects ${e.headerLen} and ${e.bodyLen} (input offset ${e.headerAt})`,
      };
    }
  }
  return null;
}

function closeFeatures(cov: Coverage, atCheckpoint: number, afterTimeout: number, messages: number): void {
  cov.hit(feature(K_CLOSE, atCheckpoint | (afterTimeout << 2) | (Math.min(messages, 8) << 4)));
}

/** The protocol's header rule on a frame payload at [start, start + len): what the app gets, or null (dropped). */
function applyRule(rule: HeaderRule, b: Uint8Array, start: number, len: number): Expected | null {
  if (rule === 'none') return { headerAt: start, headerLen: 0, bodyAt: start, bodyLen: len };
  if (rule === 'hop') {
    if (len < 4 || b[start] !== 0 || b[start + 1] !== 0 || b[start + 2] !== 0) return null;
    if (b[start + 3]! > TTL) return null;
    return { headerAt: start, headerLen: 0, bodyAt: start + 4, bodyLen: len - 4 };
  }
  const words = modelBacktraceWords(b.subarray(start, start + len), TTL);
  if (words <= 0) return null;
  return { headerAt: start, headerLen: 4 * words, bodyAt: start + 4 * words, bodyLen: len - 4 * words };
}

function equalAt(got: Uint8Array, data: Uint8Array, at: number, len: number): boolean {
  if (got.length !== len) return false;
  for (let k = 0; k < len; k++) if (got[k] !== data[at + k]) return false;
  return true;
}

interface RawConn {
  readonly conn: StreamConn;
  /** Writes all of `bytes`, queueing what a short write leaves for the next writable event. */
  write(bytes: Uint8Array): void;
}

/** Connects a raw byte stream; `onClosed` hears 'clean' (the server closed) or the reset's code. */
function connect(env: Env, address: string, onClosed: (how: string) => void): Promise<RawConn> {
  const d = env.defer<RawConn>();
  env.connect(address, (err, conn) => {
    if (err !== undefined || conn === undefined) {
      d.reject(err);
      return;
    }
    const pending: Uint8Array[] = [];
    const flush = (): void => {
      while (pending.length > 0 && conn.state !== 'closed') {
        const head = pending[0]!;
        let n: number;
        try {
          n = conn.write(head);
        } catch {
          return; // closed under us: the close is what the oracles look at
        }
        if (n < head.length) {
          pending[0] = head.subarray(n);
          return;
        }
        pending.shift();
      }
    };
    conn.setHandlers({
      onData: () => undefined, // the server's own header: not under test here
      onEnd: () => onClosed('clean'),
      onClose: (e) => onClosed(e === undefined ? 'clean' : e.code),
      onWritable: flush,
    });
    d.resolve({
      conn,
      write(bytes) {
        pending.push(bytes);
        if (pending.length === 1) flush();
      },
    });
  });
  return d.promise;
}

function streamArb(): fc.Arbitrary<FuzzInput> {
  const knobs = KNOB_COUNT;
  return fc
    .record({
      knob: fc.nat({ max: knobs - 1 }),
      goodHeader: fc.integer({ min: 0, max: 9 }).map((n) => n > 0), // mostly good headers
      badHeaderByte: fc.tuple(fc.nat({ max: 7 }), fc.integer({ min: 0, max: 255 })),
      payloads: fc.array(fc.uint8Array({ maxLength: 24 }), { maxLength: 5 }),
      prefixes: fc.array(fc.constantFrom('none', 'hop', 'id', 'pipe+id', 'deep'), { maxLength: 5 }),
      tail: fc.option(fc.constantFrom(...interestingLengths(64))),
      cuts: fc.array(fc.nat({ max: 200 }), { maxLength: 5 }),
    })
    .map(({ knob, goodHeader, badHeaderByte, payloads, prefixes, tail, cuts }) => {
      const { proto, transport } = knobParts(knob);
      const header = encodeHandshake(protocolByName(proto.name)!.peerId);
      if (!goodHeader) header[badHeaderByte[0]] = badHeaderByte[1];
      const ipc = transport === 'ipc';
      const frames = payloads.map((p, i) =>
        encodeFrame(concat(headerPrefix(prefixes[i] ?? 'none', i), p), ipc),
      );
      let data = concat(header, ...frames);
      if (tail !== null)
        data = concat(data, ipc ? Uint8Array.of(1) : EMPTY, u64Bytes(tail), Uint8Array.of(1, 2, 3));
      return { data, cuts: normalizeCuts(cuts, data.length), knob };
    });
}

function headerPrefix(kind: string, i: number): Uint8Array {
  switch (kind) {
    case 'hop':
      return u32Bytes(i % 10);
    case 'id':
      return u32Bytes(0x8000_0000 + i);
    case 'pipe+id':
      return concat(u32Bytes(7), u32Bytes(0x8000_0100 + i));
    case 'deep':
      return concat(...Array.from({ length: 8 + (i % 2) }, () => u32Bytes(1)), u32Bytes(0x8000_0000));
    default:
      return new Uint8Array(0);
  }
}

export const SP_STREAM: FuzzTarget = {
  name: 'sp-stream',
  summary: 'header + frames in random chunks into a live socket pipe over the simulated network',
  knobs: Array.from({ length: KNOB_COUNT }, (_, k) => {
    const { proto, max, mode, transport } = knobParts(k);
    return `${proto.name} listener on ${transport}, MAX-RCV-SIZE ${max}, ${mode}`;
  }),
  async: true,
  takesDecoderImpl: true,
  maxLenBytes: 512,
  hints: {
    interesting(knob) {
      const { proto, max, transport } = knobParts(knob);
      const peer = protocolByName(proto.name)!.peerId;
      return [
        ...interestingLengths(max).map((n) =>
          transport === 'ipc' ? concat(Uint8Array.of(1), u64Bytes(n)) : u64Bytes(n),
        ),
        encodeHandshake(peer),
        encodeHandshake(peer ^ 1),
        u32Bytes(0x8000_0000),
        u32Bytes(9),
      ];
    },
    fields(input) {
      const m = new FrameModel();
      const out = [0];
      if (input.data.length < 8) return out;
      const { max, transport } = knobParts(input.knob);
      m.parse(input.data.subarray(8), transport === 'ipc', max);
      for (let i = 0; i < m.count; i++) out.push(8 + m.headerAt[i]!, 8 + m.starts[i]!);
      if (m.openAt >= 0) out.push(8 + m.openAt);
      if (m.errorAt >= 0) out.push(8 + m.errorAt);
      out.push(input.data.length);
      return out;
    },
    unit(rng: Rng, knob: number) {
      const kinds = ['none', 'hop', 'id', 'pipe+id', 'deep'];
      const p = new Uint8Array(Math.floor(rng.next() * 12));
      for (let i = 0; i < p.length; i++) p[i] = Math.floor(rng.next() * 256);
      return encodeFrame(
        concat(headerPrefix(kinds[Math.floor(rng.next() * kinds.length)]!, Math.floor(rng.next() * 12)), p),
        knobParts(knob).transport === 'ipc',
      );
    },
  },
  seeds(seed, count) {
    return fc.sample(streamArb(), { seed, numRuns: count });
  },
  runner(impl) {
    if (!decoderImpls().has(impl)) throw new Error(`unknown decoder implementation '${impl}'`);
    return new StreamRunner(impl);
  },
};
