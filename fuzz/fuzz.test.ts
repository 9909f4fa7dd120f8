import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import type { FrameDecoderLike } from '../impl/sp/core/pipe.js';
import { FrameDecoder } from '../impl/sp/wire/frames.js';
import { minimize, replayInput, runFuzz, type FuzzResult } from './engine.js';
import { decoderImpls, registerDecoderImpl } from '../scenarios/sp/fuzz/impls.js';
import {
  FuzzInputError,
  inputFile,
  inputFileText,
  normalizeCuts,
  parseInputFile,
  type FuzzInput,
} from './input.js';
import { loadInputDir, regressionDir, seedDir } from './io.js';
import { lengthClass, LENGTH_CLASSES } from '../scenarios/sp/fuzz/frame-model.js';
import { modelBacktraceWords } from '../scenarios/sp/fuzz/headers.js';
import { TARGETS } from '../scenarios/sp/fuzz/index.js';

const clock = (): number => performance.now();
const SEED = 'fuzz-test-1';

/** What a failing assertion prints so the run can be repeated by hand. */
function how(target: string, impl: string, r: FuzzResult): string {
  return `netlab fuzz ${target} --impl ${impl} --seed ${r.seed} --runs ${r.execs}: ${JSON.stringify(
    r.crashers.map((c) => ({ oracle: c.oracle, message: c.message, exec: c.exec })),
  )}`;
}

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));

describe('every target against netlab (a short run, as npm test does)', () => {
  const runsFor = (name: string): number => (name === 'sp-stream' ? 2000 : 4000);
  for (const [name, target] of TARGETS) {
    it(`${name}: ${runsFor(name)} execs, no crasher, the corpus grows`, async () => {
      const r = await runFuzz({ target, seed: SEED, runs: runsFor(name), clock, generatedSeeds: 64 });
      expect(r.crashers, how(name, 'netlab', r)).toEqual([]);
      expect(r.execs).toBe(runsFor(name));
      // Mutation reached inputs the 64 generated seeds (+ committed ones) did not.
      expect(r.coverageSlots).toBeGreaterThan(0);
      expect(r.corpusSize).toBeGreaterThan(64);
    });
  }

  it('is deterministic: the same seed and runs give the same corpus and coverage', async () => {
    const target = TARGETS.get('sp-frame')!;
    const a = await runFuzz({ target, seed: 'determinism', runs: 3000, clock });
    const b = await runFuzz({ target, seed: 'determinism', runs: 3000, clock });
    const c = await runFuzz({ target, seed: 'determinism-2', runs: 3000, clock });
    expect([b.corpusSize, b.coverageSlots]).toEqual([a.corpusSize, a.coverageSlots]);
    expect([c.corpusSize, c.coverageSlots]).not.toEqual([a.corpusSize, a.coverageSlots]);
  });
});

describe('the bug museum', () => {
  const variants = [...decoderImpls().keys()].filter(
    (n) => n.startsWith('museum/') && n !== 'museum/naive-decoder',
  );

  it('offers every codec variant of the museum as an implementation', () => {
    expect(variants).toEqual(
      expect.arrayContaining(['museum/alloc-before-check', 'museum/lossy-length', 'museum/signed-length']),
    );
  });

  const expectedOracle: Readonly<Record<string, string>> = {
    'museum/alloc-before-check': 'alloc-over-limit',
    'museum/lossy-length': 'alloc-over-limit',
    'museum/signed-length': 'alloc-invalid',
  };
  for (const impl of variants) {
    it(`sp-frame finds ${impl} within 100 000 execs from the empty input (seed ${SEED}), minimized to one header`, async () => {
      // From the empty input alone (no generated or committed seeds): mutation has to get there.
      const r = await runFuzz({
        target: TARGETS.get('sp-frame')!,
        impl,
        seed: SEED,
        runs: 100_000,
        clock,
        maxCrashers: 1,
        generatedSeeds: 0,
      });
      expect(r.crashers.length, how('sp-frame', impl, r)).toBe(1);
      const c = r.crashers[0]!;
      if (expectedOracle[impl] !== undefined)
        expect(c.oracle, how('sp-frame', impl, r)).toBe(expectedOracle[impl]);
      expect(c.exec).toBeLessThanOrEqual(100_000);
      // Minimized: one 8-byte length field is all these bugs need.
      expect(c.input.data.length, how('sp-frame', impl, r)).toBeLessThanOrEqual(16);
      // The minimized input still fails the variant and passes netlab.
      expect((await replayInput(TARGETS.get('sp-frame')!, impl, c.input))?.oracle).toBe(c.oracle);
      expect(await replayInput(TARGETS.get('sp-frame')!, 'netlab', c.input)).toBeNull();
    });
  }

  it("finds nothing in the museum's control decoder (no bug planted) in 20 000 execs of each frame target", async () => {
    for (const name of ['sp-frame', 'sp-ipc-frame']) {
      const r = await runFuzz({
        target: TARGETS.get(name)!,
        impl: 'museum/naive-decoder',
        seed: SEED,
        runs: 20_000,
        clock,
      });
      expect(r.crashers, how(name, 'museum/naive-decoder', r)).toEqual([]);
    }
  });
});

describe('planted bugs show the oracles are not vacuous', () => {
  /** netlab's decoder with one bug: every third frame is swallowed. */
  registerDecoderImpl({
    name: 'test/drops-third-frame',
    summary: 'test only: drops every third frame',
    factory: (options): FrameDecoderLike => {
      const d = new FrameDecoder(options);
      let n = 0;
      return {
        feed: (chunk, onFrame) =>
          d.feed(chunk, (p) => {
            if (++n % 3 !== 0) onFrame(p);
          }),
      };
    },
  });
  /** netlab's decoder whose delivered payload is off by one byte when it straddles chunks. */
  registerDecoderImpl({
    name: 'test/straddle-corrupts',
    summary: 'test only: corrupts frames assembled from several chunks',
    factory: (options): FrameDecoderLike => {
      const d = new FrameDecoder(options);
      return {
        feed: (chunk, onFrame) =>
          d.feed(chunk, (p) => {
            if (p.length > 0 && p.buffer !== chunk.buffer) p[0] = p[0]! ^ 1;
            onFrame(p);
          }),
      };
    },
  });

  /** netlab's decoder that also asks its allocator for a byte a thousand times per chunk: runaway work. */
  registerDecoderImpl({
    name: 'test/alloc-storm',
    summary: 'test only: a thousand allocations per chunk',
    factory: (options): FrameDecoderLike => {
      const d = new FrameDecoder(options);
      return {
        feed: (chunk, onFrame) => {
          for (let i = 0; i < 1000; i++) options.allocator?.alloc(1);
          d.feed(chunk, onFrame);
        },
      };
    },
  });

  it('sp-frame catches runaway work (hang: steps beyond the budget per input byte)', async () => {
    const r = await runFuzz({
      target: TARGETS.get('sp-frame')!,
      impl: 'test/alloc-storm',
      seed: SEED,
      runs: 1000,
      clock,
      maxCrashers: 1,
    });
    expect(r.crashers.map((c) => c.oracle)).toEqual(['hang']);
  });

  it('sp-frame and sp-stream catch a decoder that drops frames', async () => {
    for (const name of ['sp-frame', 'sp-stream']) {
      const r = await runFuzz({
        target: TARGETS.get(name)!,
        impl: 'test/drops-third-frame',
        seed: SEED,
        runs: 2000,
        clock,
        maxCrashers: 1,
      });
      // The frame after a dropped one no longer re-encodes to the input at its place.
      expect(r.crashers.length, name).toBe(1);
      expect(['output-differs', 'reencode-differs'], name).toContain(r.crashers[0]!.oracle);
    }
  });

  it('sp-frame catches a decoder that is right on whole buffers only (chunking-differs)', async () => {
    const r = await runFuzz({
      target: TARGETS.get('sp-frame')!,
      impl: 'test/straddle-corrupts',
      seed: SEED,
      runs: 5000,
      clock,
      maxCrashers: 1,
    });
    expect(r.crashers.map((c) => c.oracle)).toEqual(['chunking-differs']);
    expect(r.crashers[0]!.input.cuts.length).toBeGreaterThan(0);
  });
});

describe('seed corpus and regressions', () => {
  for (const [name, target] of TARGETS) {
    it(`${name}: every committed seed passes every oracle`, async () => {
      const seeds = loadInputDir(seedDir(name), name);
      expect(seeds.problems).toEqual([]);
      expect(seeds.inputs.length).toBeGreaterThan(0);
      for (const s of seeds.inputs) expect(await replayInput(target, 'netlab', s.input), s.name).toBeNull();
    });

    it(`${name}: every saved crasher passes netlab, and a museum crasher still fails its variant`, async () => {
      const saved = loadInputDir(regressionDir(name), name);
      expect(saved.problems).toEqual([]);
      for (const s of saved.inputs) {
        expect(s.file.finding, `${s.name}: a regression file records its finding`).toBeDefined();
        // A netlab crasher is a fixed bug: it must pass now. A museum one must still catch its variant.
        const impl = s.file.impl ?? 'netlab';
        if (impl !== 'netlab')
          expect((await replayInput(target, impl, s.input))?.oracle, s.name).toBe(s.file.finding?.oracle);
        expect(await replayInput(target, 'netlab', s.input), s.name).toBeNull();
      }
    });
  }
});

describe('engine pieces', () => {
  it('minimizes a failing input down to what the oracle needs', async () => {
    const target = TARGETS.get('sp-frame')!;
    const found: FuzzInput = {
      data: hex('0000000000000002 6869 0000000000000000 0000000000100001 00 01 02 03 04 05'),
      cuts: [3, 12, 20],
      knob: 0,
    };
    const runner = target.runner('museum/alloc-before-check');
    const m = await minimize(runner, found, 'alloc-over-limit', 10_000, false);
    expect(m.finding?.oracle).toBe('alloc-over-limit');
    // One header announcing more than 1 MiB, nothing else.
    expect(m.input.data.length).toBe(8);
    expect(m.input.cuts).toEqual([]);
  });

  it('normalizes cuts: sorted, distinct, strictly inside the data', () => {
    expect(normalizeCuts([5, 0, 3, 3, 9, 10, 1], 10)).toEqual([1, 3, 5, 9]);
  });

  it('writes input files that parse back to the same input and name a bad field', () => {
    const input: FuzzInput = { data: hex('00010203'), cuts: [1, 3], knob: 2 };
    const text = inputFileText(inputFile('sp-frame', input, { note: 'x' }));
    expect(parseInputFile(text, 'f.json').input).toEqual(input);
    expect(() => parseInputFile('{', 'a.json')).toThrow(FuzzInputError);
    expect(() => parseInputFile(text.replace('"hex": "00010203"', '"hex": "0g"'), 'b.json')).toThrow(
      /b\.json: field hex/,
    );
    expect(() => parseInputFile(text.replace('[1, 3]', '[3, 1]'), 'c.json')).toThrow(/field cuts/);
    expect(() => parseInputFile(text.replace('"knob": 2', '"knob": -1'), 'd.json')).toThrow(/field knob/);
  });

  it('classifies lengths around the limit and the 2^32, 2^53, 2^63, 2^64-1 boundaries', () => {
    const cls = (high: number, low: number, max: number): string =>
      LENGTH_CLASSES[lengthClass(high, low, max)]!;
    expect(cls(0, 64, 64)).toBe('max');
    expect(cls(0, 65, 64)).toBe('max+1');
    expect(cls(0, 63, 64)).toBe('max-1');
    expect(cls(0, 0, 0)).toBe('zero');
    expect(cls(0x20_0000, 0, 0)).toBe('2^53');
    expect(cls(0x1f_ffff, 0xffff_ffff, 0)).toBe('2^32-(2^53-1)');
    expect(cls(0x8000_0000, 0, 0)).toBe('2^63-(2^64-2)');
    expect(cls(0xffff_ffff, 0xffff_ffff, 0)).toBe('2^64-1');
  });

  it('models backtraces: id word within TTL, garbage, too deep', () => {
    expect(modelBacktraceWords(hex('80000001 6869'), 8)).toBe(1);
    expect(modelBacktraceWords(hex('00000001 80000006'), 8)).toBe(2);
    expect(modelBacktraceWords(hex('00000001 80000006'), 1)).toBe(-1);
    expect(modelBacktraceWords(hex('00000001 0000'), 8)).toBe(0);
  });
});
