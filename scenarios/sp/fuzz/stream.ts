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
import { SpError } from '../../../impl/sp/errors.js';
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

function knobParts(knob: number): { proto: StreamProtocol; max: number; mode: Mode; transport: Transport } {
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

class StreamRunner implements TargetRunner {
  private readonly frames = new FrameModel();
  private readonly pool = new CheckingPool();

  constructor(private readonly impl: string) {}

  async exec(input: FuzzInput, ctx: ExecContext): Promise<Finding | null> {
    const { proto, max, mode, transport } = knobParts(input.knob);
    const ipc = transport === 'ipc';
    const data = input.data;
    const cov = ctx.coverage;
    const info = protocolByName(proto.name)!;
    // The model: header, frames, protocol rules.
    const hs = modelHandshake(data, info.peerId);
    cov.hit(feature(K_HANDSHAKE, hs.check | (input.knob << 4)));
    const expected: Expected[] = [];
    let expectBad = false;
    const complete = data.length >= 8;
    if (complete && 'code' in hs) expectBad = true;
    const body = data.subarray(8);
    const m = this.frames;
    m.parse(complete && 'id' in hs ? body : EMPTY, ipc, max);
    if (complete && 'id' in hs) {
      for (let i = 0; i < Math.min(m.classCount, 16); i++) cov.hit(feature(K_FRAME, m.classes[i]!));
      expectBad = m.error !== null;
      for (let i = 0; i < m.count; i++) {
        const e = applyRule(proto.rule, body, m.starts[i]!, m.lens[i]!);
        cov.hit(feature(K_RULE, e === null ? 0 : 1 + Math.min(e.headerLen >> 2, 9)));
        if (e !== null) expected.push({ ...e, headerAt: e.headerAt + 8, bodyAt: e.bodyAt + 8 });
      }
    }
    for (const c of input.cuts) cov.hit(feature(K_CUT, c < 8 ? c : 8 + Math.min(c - 8, 7)));

    const decoder = decoderImpls().get(this.impl)!;
    this.pool.reset(
      max > 0 ? max : this.frames.maxAnnounced,
      max > 0 ? 'MAX-RCV-SIZE' : 'the largest length announced (MAX-RCV-SIZE 0)',
    );
    const world = new World({ seed: 'fuzz/sp-stream', trace: { hash: false }, traceTimers: false });
    const net = new Network(world);
    const a = net.addHost('a').env;
    const b = net.addHost('b').env;
    const late = mode !== 'drain';
    const server = proto.open(a, {
      options: {
        'MAX-RCV-SIZE': max,
        'HANDSHAKE-TIMEOUT': HANDSHAKE_TIMEOUT_US,
        ...(late ? { 'READQ-LEN': 1 } : {}),
      },
      allocator: this.pool,
      frameDecoder: decoder.factory,
    });
    const got: Message[] = [];
    let readerEnd: unknown = undefined;
    let peerClosed: string | null = null;
    let closedAtCheckpoint: string | null = null;
    let closedAfterTimeout: string | null = null;
    const chunks = chunksOf(input);
    const read = async (): Promise<void> => {
      for (;;) {
        try {
          got.push(await server.recvMsg());
        } catch (e) {
          readerEnd = e;
          return;
        }
      }
    };

    const script = async (): Promise<void> => {
      // ipc connects within one host: the peer then runs on the server's host.
      await server.listen(ipc ? IPC_ADDRESS : 'tcp://a:5555');
      const raw = await connect(
        ipc ? a : b,
        ipc ? IPC_ADDRESS : 'tcp://a:5555',
        (how) => (peerClosed ??= how),
      );
      if (!late) void read();
      for (const [i, chunk] of chunks.entries()) {
        if (i > 0) await b.sleep(CHUNK_GAP_US);
        if (peerClosed !== null) break;
        raw.write(chunk);
      }
      if (mode === 'late-reader+close') raw.conn.close();
      await b.sleep(SETTLE_US);
      if (late) {
        void read();
        await b.sleep(SETTLE_US);
      }
      closedAtCheckpoint = peerClosed;
      if (!complete && mode !== 'late-reader+close') {
        await b.sleep(HANDSHAKE_TIMEOUT_US);
        closedAfterTimeout = peerClosed;
      }
      if (raw.conn.state !== 'closed') raw.conn.close();
      await b.sleep(SETTLE_US);
      await server.close();
      await b.sleep(SETTLE_US);
    };

    let worldError: unknown = undefined;
    let settled = false;
    try {
      const done = script().finally(() => {
        settled = true;
        world.stop();
      });
      done.catch(() => undefined);
      const r = await world.run({ maxEvents: MAX_EVENTS_PER_EXEC });
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

    const closeKind = (c: string | null): number => (c === null ? 0 : c === 'clean' ? 1 : 2);
    closeFeatures(cov, closeKind(closedAtCheckpoint), closeKind(closedAfterTimeout), got.length);
    const label = `${proto.name} on ${transport}, MAX-RCV-SIZE ${max}, ${mode}`;
    if (!(readerEnd instanceof SpError) || readerEnd.code !== 'ErrClosed') {
      return {
        oracle: readerEnd instanceof SpError ? 'wrong-error' : 'untyped-error',
        message: `${label}: recv ended with ${describeError(readerEnd)}, want ErrClosed after close()`,
      };
    }
    // The peer's own close (late-reader+close) says nothing about the server: no close oracle then.
    const judgeClose = mode !== 'late-reader+close';
    if (judgeClose && complete && (closedAtCheckpoint !== null) !== expectBad) {
      return {
        oracle: 'stream-misbehaved',
        message: expectBad
          ? `${label}: the pipe stayed open after a stream the model rejects (${'code' in hs ? hs.code : this.frames.error})`
          : `${label}: the pipe closed (${String(closedAtCheckpoint)}) on a stream the model accepts`,
      };
    }
    if (judgeClose && !complete && closedAtCheckpoint !== null)
      return {
        oracle: 'stream-misbehaved',
        message: `${label}: closed before a ${data.length}-byte header was complete`,
      };
    if (judgeClose && !complete && closedAfterTimeout === null)
      return {
        oracle: 'hang',
        message: `${label}: a ${data.length}-byte header was still open after HANDSHAKE-TIMEOUT`,
      };
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
