/**
 * The reactor-linkbuffer fuzz target: netlab's link buffers survive a few thousand execs with every
 * oracle holding, the corpus grows, and hand-made op sequences are judged as the model says.
 */
import { describe, expect, it } from 'vitest';
import { replayInput, runFuzz } from '../../../fuzz/engine.js';
import { LINKBUFFER_CONFIGS, OPS, REACTOR_LINKBUFFER } from './linkbuffer.js';

let tick = 0;
const clock = (): number => tick++;

const op = (name: (typeof OPS)[number]): number => OPS.indexOf(name);

describe('reactor-linkbuffer', () => {
  it('has a knob per configuration', () => {
    expect(REACTOR_LINKBUFFER.knobs).toHaveLength(LINKBUFFER_CONFIGS.length);
  });

  it('netlab: 5000 execs, no crasher, the corpus grows', async () => {
    const r = await runFuzz({
      target: REACTOR_LINKBUFFER,
      seed: 'reactor-linkbuffer-test',
      runs: 5000,
      clock,
    });
    expect(r.crashers.map((c) => `${c.oracle}: ${c.message}`)).toEqual([]);
    expect(r.execs).toBe(5000);
    expect(r.corpusSize).toBeGreaterThan(100);
    expect(r.coverageSlots).toBeGreaterThan(100);
  });

  it('judges hand-made op sequences', async () => {
    // Two chunks of 40 bytes on 64-byte pages, a straddling next(60), a slice, releases, output.
    const chunk = Array.from({ length: 40 }, (_, i) => i);
    const data = Uint8Array.from([
      ...[op('append'), 40, ...chunk],
      ...[op('append'), 40, ...chunk],
      ...[op('next'), 60],
      ...[op('slice'), 255],
      ...[op('release')],
      ...[op('sliceRead'), 0, 0, 255],
      ...[op('sliceRelease'), 0],
      ...[op('writeBytes'), 3, 1, 2, 3],
      ...[op('malloc'), 201, 9],
      ...[op('commit')],
      ...[op('send'), 5, 3],
      ...[op('next'), 254], // one past the end: the model expects ErrNotEnough
      ...[op('close')],
      ...[op('peek'), 0], // closed: ErrConnClosed
    ]);
    for (let knob = 0; knob < LINKBUFFER_CONFIGS.length; knob++)
      expect(await replayInput(REACTOR_LINKBUFFER, 'netlab', { data, cuts: [], knob })).toBeNull();
    // knob 1 bounds input at 300 bytes: appends beyond it are refused as the model expects.
    const flood = Uint8Array.from(Array.from({ length: 10 }, () => [op('appendBig'), 2, 7]).flat());
    expect(await replayInput(REACTOR_LINKBUFFER, 'netlab', { data: flood, cuts: [], knob: 1 })).toBeNull();
  });

  it('the empty input and garbage are judged without findings', async () => {
    expect(
      await replayInput(REACTOR_LINKBUFFER, 'netlab', { data: new Uint8Array(0), cuts: [], knob: 0 }),
    ).toBeNull();
    const garbage = Uint8Array.from({ length: 512 }, (_, i) => (i * 131 + 17) & 0xff);
    expect(await replayInput(REACTOR_LINKBUFFER, 'netlab', { data: garbage, cuts: [], knob: 3 })).toBeNull();
  });
});
