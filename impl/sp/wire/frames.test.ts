import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesEqual, concatBytes, fromHex, toHex, writeU32 } from '../../runtime/bytes.js';
import { SpError, type SpErrorCode } from '../errors.js';
import { decodeHandshake } from './handshake.js';
import {
  DEFAULT_MAX_RECV_BYTES,
  encodeFrame,
  encodeFrameHeader,
  FrameDecoder,
  type Allocator,
  type FrameDecoderOptions,
  writeFrameHeader,
} from './frames.js';

/** Splits `bytes` at the given cut points (any order, duplicates allowed: they give empty chunks). */
function split(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...cuts.map((c) => c % (bytes.length + 1)), bytes.length].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let from = 0;
  for (const to of points) {
    chunks.push(bytes.slice(from, to)); // slice: each chunk its own buffer, as the runtime delivers
    from = to;
  }
  return chunks;
}

class RecordingAllocator implements Allocator {
  readonly sizes: number[] = [];
  readonly buffers = new Set<Uint8Array>();
  alloc(bytes: number): Uint8Array {
    this.sizes.push(bytes);
    const b = new Uint8Array(bytes);
    this.buffers.add(b);
    return b;
  }
  get maxBytes(): number {
    return this.sizes.reduce((m, s) => Math.max(m, s), 0);
  }
}

function decodeAll(chunks: readonly Uint8Array[], options?: FrameDecoderOptions): Uint8Array[] {
  const d = new FrameDecoder(options);
  const out: Uint8Array[] = [];
  for (const c of chunks) d.feed(c, (p) => out.push(p));
  return out;
}

function codeOf(fn: () => unknown): SpErrorCode | 'no error' {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SpError);
    return (e as SpError).code;
  }
  return 'no error';
}

/** A u64 BE length field from its high and low 32-bit words. */
function lengthField(high: number, low: number, ipc = false): Uint8Array {
  const b = new Uint8Array(ipc ? 9 : 8);
  if (ipc) b[0] = 1;
  writeU32(b, ipc ? 1 : 0, high);
  writeU32(b, ipc ? 5 : 4, low);
  return b;
}

describe('captured wire (sp.md §8)', () => {
  it.each([
    ['nngcat req0 request', '00000000 00000008 f71d01c9 70696e67', 'f71d01c970696e67'],
    ['pair1 with hop count 1', '00000000 00000009 00000001 68656c6c6f', '0000000168656c6c6f'],
    ['surveyor0 survey', '00000000 00000009 b36694eb 68656c6c6f', 'b36694eb68656c6c6f'],
    [
      'rep0 reply to [1, 0x80000006]',
      '00000000 0000000c 00000001 80000006 706f6e67',
      '0000000180000006706f6e67',
    ],
  ])('%s decodes and re-encodes byte for byte', (_name, wire, payload) => {
    expect(decodeAll([fromHex(wire)]).map((p) => toHex(p))).toEqual([payload]);
    expect(toHex(encodeFrame(fromHex(payload)))).toBe(wire.replace(/\s+/g, ''));
  });

  it('splits a handshake and its first frame sent in one segment (nngcat pub0, nanocat req)', () => {
    for (const [segment, peerId, payload] of [
      ['00535000 00200000 00000000 00000005 68656c6c6f', 0x20, '68656c6c6f'],
      ['00535000 00300000 00000000 00000008 d4039cc6 70696e67', 0x30, 'd4039cc670696e67'],
    ] as const) {
      const bytes = fromHex(segment);
      expect(decodeHandshake(bytes, peerId)).toBe(peerId);
      expect(decodeAll([bytes.subarray(8)]).map((p) => toHex(p))).toEqual([payload]);
    }
  });
});

describe('encodeFrameHeader / encodeFrame', () => {
  it('writes the u64 big-endian length, with the ipc type byte first when asked', () => {
    expect(toHex(encodeFrameHeader(0))).toBe('0000000000000000');
    expect(toHex(encodeFrameHeader(0x0102_0304))).toBe('0000000001020304');
    expect(toHex(encodeFrameHeader(2 ** 32))).toBe('0000000100000000');
    expect(toHex(encodeFrameHeader(Number.MAX_SAFE_INTEGER))).toBe('001fffffffffffff');
    expect(toHex(encodeFrameHeader(5, true))).toBe('010000000000000005');
    expect(toHex(encodeFrame(fromHex('68656c6c6f'), true))).toBe('01000000000000000568656c6c6f');
  });

  it.each([-1, 1.5, Number.NaN, Infinity, 2 ** 53])('rejects payload length %s with ErrBadValue', (n) => {
    expect(codeOf(() => encodeFrameHeader(n))).toBe('ErrBadValue');
    expect(() => encodeFrameHeader(n)).toThrow(
      `ErrBadValue: payload length must be an integer in [0, 2^53-1] bytes, got ${String(n)}`,
    );
  });

  it('writeFrameHeader refuses an output buffer shorter than the header', () => {
    expect(() => writeFrameHeader(new Uint8Array(7), 1)).toThrow(
      'ErrBadValue: a frame header needs 8 bytes, got 7',
    );
    expect(() => writeFrameHeader(new Uint8Array(8), 1, true)).toThrow(
      'ErrBadValue: a frame header needs 9 bytes, got 8',
    );
    const out = new Uint8Array(9);
    expect(writeFrameHeader(out, 5, true)).toBe(9);
    expect(toHex(out)).toBe('010000000000000005');
  });
});

describe('FrameDecoder', () => {
  const payloads = fc.array(
    fc.oneof(
      { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
      { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }) },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 200, maxLength: 3000 }) },
    ),
    { maxLength: 12 },
  );

  it('decodes any list of payloads, in any chunking, to the same list', () => {
    fc.assert(
      fc.property(payloads, fc.array(fc.nat(), { maxLength: 40 }), fc.boolean(), (list, cuts, ipc) => {
        const wire = concatBytes(list.map((p) => encodeFrame(p, ipc)));
        const alloc = new RecordingAllocator();
        const maxRecvBytes = list.reduce((m, p) => Math.max(m, p.length), 0);
        const d = new FrameDecoder({ ipc, allocator: alloc, maxRecvBytes: maxRecvBytes || 1 });
        const out: Uint8Array[] = [];
        for (const c of split(wire, cuts)) d.feed(c, (p) => out.push(p));
        expect(out.map((p) => toHex(p))).toEqual(list.map((p) => toHex(p)));
        expect(d.bufferedBytes).toBe(0);
        expect(d.failed).toBe(false);
        // Every allocation is one whole straddling body: exact length, never above the limit.
        for (const s of alloc.sizes) expect(s).toBeLessThanOrEqual(maxRecvBytes);
        for (const p of out) if (alloc.buffers.has(p)) expect(p.byteOffset).toBe(0);
      }),
      { seed: 0x5f4a3e, numRuns: 500 },
    );
  });

  it('delivers a frame whole inside one chunk as a view of that chunk (zero copy)', () => {
    const alloc = new RecordingAllocator();
    const chunk = concatBytes([encodeFrame(fromHex('aabb')), encodeFrame(fromHex('ccddee'))]);
    const out = decodeAll([chunk], { allocator: alloc });
    expect(out.map((p) => toHex(p))).toEqual(['aabb', 'ccddee']);
    expect(out[0]!.buffer).toBe(chunk.buffer);
    expect(out[1]!.byteOffset).toBe(8 + 2 + 8);
    expect(alloc.sizes).toEqual([]);
  });

  it('assembles a straddling frame in one allocator buffer of exactly its length', () => {
    const alloc = new RecordingAllocator();
    const wire = encodeFrame(fromHex('0102030405060708090a'));
    const out = decodeAll(split(wire, [3, 9, 12, 15]), { allocator: alloc });
    expect(out.map((p) => toHex(p))).toEqual(['0102030405060708090a']);
    expect(alloc.sizes).toEqual([10]);
    expect(alloc.buffers.has(out[0]!)).toBe(true);
  });

  it('delivers a body whole in the chunk after a split header without copying', () => {
    const alloc = new RecordingAllocator();
    const wire = encodeFrame(fromHex('0102030405'));
    const out = decodeAll([wire.slice(0, 5), wire.slice(5)], { allocator: alloc });
    expect(out.map((p) => toHex(p))).toEqual(['0102030405']);
    expect(alloc.sizes).toEqual([]);
  });

  describe('zero-length frames', () => {
    it('are delivered as empty payloads, alone, in a row and split anywhere', () => {
      const wire = concatBytes([
        encodeFrame(new Uint8Array(0)),
        encodeFrame(fromHex('ff')),
        encodeFrame(new Uint8Array(0)),
      ]);
      for (let cut = 0; cut <= wire.length; cut++) {
        const out = decodeAll([wire.slice(0, cut), wire.slice(cut)]);
        expect(out.map((p) => toHex(p))).toEqual(['', 'ff', '']);
      }
      const one = decodeAll([fromHex('0000000000000000')]);
      expect(one).toHaveLength(1);
      expect(one[0]).toBeInstanceOf(Uint8Array);
      expect(one[0]!.length).toBe(0);
    });
  });

  describe('receive limit', () => {
    const MAX = 1000;
    const oversize: [string, Uint8Array][] = [
      ['max + 1', lengthField(0, MAX + 1)],
      ['2^53', lengthField(0x20_0000, 0)],
      ['0xffffffffffffffff', lengthField(0xffff_ffff, 0xffff_ffff)],
      ['high word set (2^32)', lengthField(1, 0)],
      ['high word set, low word small (2^32 + 5)', lengthField(1, 5)],
      ['top bit only ({0x80} then zeros)', lengthField(0x8000_0000, 0)],
    ];

    it.each(oversize)(
      'rejects %s with ErrTooLong before allocating, however the header is split',
      (_n, header) => {
        for (let cut = 0; cut <= header.length; cut++) {
          const alloc = new RecordingAllocator();
          const d = new FrameDecoder({ maxRecvBytes: MAX, allocator: alloc });
          const body = new Uint8Array(64);
          const feed = (): void => {
            d.feed(header.slice(0, cut), () => expect.unreachable());
            d.feed(concatBytes([header.slice(cut), body]), () => expect.unreachable());
          };
          expect(codeOf(feed)).toBe('ErrTooLong');
          expect(alloc.sizes).toEqual([]);
          expect(d.failed).toBe(true);
        }
      },
    );

    it('rejects lengths beyond 2^53-1 even when unlimited, and says why', () => {
      const d = new FrameDecoder({ maxRecvBytes: 0 });
      expect(() => d.feed(lengthField(0x20_0000, 0), () => {})).toThrow(
        'ErrTooLong: frame length 0x0020000000000000 is beyond 2^53-1 bytes',
      );
      const e = new FrameDecoder({ maxRecvBytes: 5 });
      expect(() => e.feed(lengthField(0, 6), () => {})).toThrow(
        'ErrTooLong: frame length 6 bytes exceeds maxRecvBytes 5',
      );
    });

    it('accepts a frame of exactly max bytes, allocating exactly max', () => {
      const alloc = new RecordingAllocator();
      const payload = Uint8Array.from({ length: MAX }, (_, i) => i & 0xff);
      const wire = encodeFrame(payload);
      const out = decodeAll(split(wire, [100, 500]), { maxRecvBytes: MAX, allocator: alloc });
      expect(out.map((p) => toHex(p))).toEqual([toHex(payload)]);
      expect(alloc.sizes).toEqual([MAX]);
    });

    it('defaults to 1 MiB: == 1 MiB accepted, 1 MiB + 1 rejected', () => {
      expect(DEFAULT_MAX_RECV_BYTES).toBe(1024 * 1024);
      const ok = decodeAll([encodeFrame(new Uint8Array(DEFAULT_MAX_RECV_BYTES))]);
      expect(ok[0]!.length).toBe(DEFAULT_MAX_RECV_BYTES);
      expect(codeOf(() => decodeAll([lengthField(0, DEFAULT_MAX_RECV_BYTES + 1)]))).toBe('ErrTooLong');
    });

    it('delivers the frames before the oversize one in the same chunk, then fails for good', () => {
      const d = new FrameDecoder({ maxRecvBytes: MAX });
      const out: string[] = [];
      const chunk = concatBytes([
        encodeFrame(fromHex('01')),
        encodeFrame(fromHex('0203')),
        lengthField(0, MAX + 1),
      ]);
      let first: unknown;
      try {
        d.feed(chunk, (p) => out.push(toHex(p)));
      } catch (e) {
        first = e;
      }
      expect(out).toEqual(['01', '0203']);
      expect((first as SpError).code).toBe('ErrTooLong');
      expect(d.failed).toBe(true);
      // Later feeds throw the very same error and deliver nothing, even well-formed frames.
      for (const chunk of [encodeFrame(fromHex('04')), new Uint8Array(0)]) {
        let again: unknown;
        try {
          d.feed(chunk, () => expect.unreachable());
        } catch (e) {
          again = e;
        }
        expect(again).toBe(first);
      }
    });

    it('with no limit (0), holds memory in step with bytes received, not with the announced length', () => {
      const alloc = new RecordingAllocator();
      const d = new FrameDecoder({ maxRecvBytes: 0, allocator: alloc });
      d.feed(concatBytes([lengthField(0x1f_ffff, 0xffff_ffff), new Uint8Array(10)]), () =>
        expect.unreachable(),
      );
      expect(d.bufferedBytes).toBe(18);
      expect(alloc.maxBytes).toBeLessThanOrEqual(DEFAULT_MAX_RECV_BYTES);
    });

    it('with no limit, assembles a frame larger than 1 MiB by growing, ending at exactly its length', () => {
      const alloc = new RecordingAllocator();
      const sizeBytes = 3 * 1024 * 1024 + 7;
      const payload = Uint8Array.from({ length: sizeBytes }, (_, i) => (i * 7) & 0xff);
      const wire = encodeFrame(payload);
      const chunks: Uint8Array[] = [];
      for (let o = 0; o < wire.length; o += 65536) chunks.push(wire.slice(o, o + 65536));
      const out = decodeAll(chunks, { maxRecvBytes: 0, allocator: alloc });
      expect(out).toHaveLength(1);
      expect(out[0]!.length).toBe(sizeBytes);
      expect(bytesEqual(out[0]!, payload)).toBe(true); // toEqual walks 3 MiB element by element: slow
      expect(alloc.sizes.at(-1)).toBe(sizeBytes);
      expect(alloc.maxBytes).toBe(sizeBytes);
      expect(alloc.sizes.length).toBeLessThanOrEqual(4); // 1 MiB, 2 MiB, 3 MiB + 7: doubling, not per chunk
    });

    it('checks its options', () => {
      for (const maxRecvBytes of [-1, 1.5, Number.NaN, 2 ** 53]) {
        expect(codeOf(() => new FrameDecoder({ maxRecvBytes }))).toBe('ErrBadValue');
      }
      expect(() => new FrameDecoder({ maxRecvBytes: -1 })).toThrow(
        'ErrBadValue: maxRecvBytes must be an integer in [0, 2^53-1] (0 = unlimited), got -1',
      );
      expect(() => new FrameDecoder({ ipc: 1 } as never)).toThrow(
        'ErrBadValue: ipc must be a boolean, got 1',
      );
      const noAlloc = { allocator: {} } as unknown as FrameDecoderOptions;
      expect(codeOf(() => new FrameDecoder(noAlloc))).toBe('ErrBadValue');
      expect(() => new FrameDecoder(noAlloc)).toThrow(
        'ErrBadValue: allocator must have an alloc(bytes) method',
      );
    });
  });

  describe('garbage after frames (mangos TcpBadRecv)', () => {
    it.each([
      ['{}', '', 0],
      ['{0x80}', '80', 1],
      ['{0,0,0,1}', '00000001', 4],
      ['a length of 10, 2 bytes, then nothing', '000000000000000a 0102', 10],
    ])('%s is buffered, not delivered', (_name, garbage, bufferedBytes) => {
      const d = new FrameDecoder();
      const out: string[] = [];
      d.feed(concatBytes([encodeFrame(fromHex('aa')), fromHex(garbage)]), (p) => out.push(toHex(p)));
      expect(out).toEqual(['aa']);
      expect(d.bufferedBytes).toBe(bufferedBytes);
      expect(d.failed).toBe(false);
    });

    it('{0x80} followed by the rest of its length field is ErrTooLong', () => {
      const d = new FrameDecoder();
      d.feed(fromHex('80'), () => expect.unreachable());
      expect(codeOf(() => d.feed(fromHex('00000000000000'), () => expect.unreachable()))).toBe('ErrTooLong');
    });
  });

  describe('ipc framing', () => {
    it('reads the type byte 0x01 before each length, split anywhere', () => {
      const wire = concatBytes([encodeFrame(fromHex('0102'), true), encodeFrame(new Uint8Array(0), true)]);
      expect(toHex(wire)).toBe('010000000000000002010201' + '0000000000000000');
      for (let cut = 0; cut <= wire.length; cut++) {
        expect(decodeAll([wire.slice(0, cut), wire.slice(cut)], { ipc: true }).map((p) => toHex(p))).toEqual([
          '0102',
          '',
        ]);
      }
    });

    it.each([0x00, 0x02, 0xff])('rejects type byte 0x%s as ErrBadHeader (nng: NNG_EPROTO)', (type) => {
      const wire = encodeFrame(fromHex('0102'), true);
      wire[0] = type;
      const d = new FrameDecoder({ ipc: true });
      expect(() => d.feed(wire, () => expect.unreachable())).toThrow(
        `ErrBadHeader: ipc frame type byte is 0x${type.toString(16).padStart(2, '0')}, want 0x01`,
      );
      expect(d.failed).toBe(true);
    });

    it('applies the limit to the payload length; the type byte does not count', () => {
      expect(
        decodeAll([encodeFrame(new Uint8Array(10), true)], { ipc: true, maxRecvBytes: 10 }),
      ).toHaveLength(1);
      expect(
        codeOf(() => decodeAll([encodeFrame(new Uint8Array(11), true)], { ipc: true, maxRecvBytes: 10 })),
      ).toBe('ErrTooLong');
    });

    it('a TCP decoder reads an ipc stream as garbage lengths (0x01 in the top byte)', () => {
      expect(codeOf(() => decodeAll([encodeFrame(fromHex('0102'), true)]))).toBe('ErrTooLong');
    });
  });

  describe('callers that misbehave', () => {
    it('fails with ErrClosed when onFrame throws, rethrowing the callback error', () => {
      const d = new FrameDecoder();
      const boom = new Error('boom');
      const chunk = concatBytes([encodeFrame(fromHex('01')), encodeFrame(fromHex('02'))]);
      expect(() =>
        d.feed(chunk, () => {
          throw boom;
        }),
      ).toThrow(boom);
      expect(d.failed).toBe(true);
      let later: unknown;
      try {
        d.feed(encodeFrame(fromHex('03')), () => {});
      } catch (e) {
        later = e;
      }
      expect((later as SpError).code).toBe('ErrClosed');
      expect((later as SpError).message).toBe('ErrClosed: frame decoder stopped: an onFrame callback threw');
      expect((later as SpError).cause).toBe(boom);
    });

    it('refuses a reentrant feed() from inside onFrame', () => {
      const d = new FrameDecoder();
      const frame = encodeFrame(fromHex('01'));
      expect(() => d.feed(frame, () => d.feed(frame, () => {}))).toThrow('not reentrant');
      expect(d.failed).toBe(true);
    });

    it('rejects an allocator that returns the wrong size', () => {
      const d = new FrameDecoder({ allocator: { alloc: (n) => new Uint8Array(n + 1) } });
      const wire = encodeFrame(fromHex('010203'));
      d.feed(wire.slice(0, 8), () => {}); // header only: the body buffer is taken when bytes arrive
      expect(() => d.feed(wire.slice(8, 9), () => {})).toThrow('Allocator.alloc(3) returned 4 bytes');
    });
  });
});
