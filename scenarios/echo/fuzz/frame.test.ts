/**
 * The echo-frame fuzz target: netlab's decoder survives a few thousand execs with every oracle
 * holding; the museum's split-header decoder is found (a header split across chunks is misread) and
 * minimized; the oracles fire on hand-made inputs.
 */
import { describe, expect, it } from 'vitest';
import { replayInput, runFuzz } from '../../../fuzz/engine.js';
import { encodeFrameHeader } from '../../../impl/echo/echo.js';
import { ECHO_FRAME, ECHO_FRAME_LIMITS, echoFuzzImpls } from './frame.js';

let tick = 0;
const clock = (): number => tick++;

function frames(...payloads: number[][]): Uint8Array {
  const parts = payloads.flatMap((p) => [...encodeFrameHeader(p.length), ...p]);
  return Uint8Array.from(parts);
}

describe('echo-frame', () => {
  it('lists netlab first, then the museum decoder', () => {
    expect([...echoFuzzImpls().keys()]).toEqual(['netlab', 'museum/echo-split-header']);
    expect(ECHO_FRAME.knobs).toHaveLength(ECHO_FRAME_LIMITS.length);
  });

  it('netlab: 5000 execs, no crasher, the corpus grows', async () => {
    const r = await runFuzz({ target: ECHO_FRAME, seed: 'echo-frame-test', runs: 5000, clock });
    expect(r.crashers.map((c) => `${c.oracle}: ${c.message}`)).toEqual([]);
    expect(r.execs).toBe(5000);
    expect(r.corpusSize).toBeGreaterThan(256);
    expect(r.coverageSlots).toBeGreaterThan(50);
  });

  it('finds museum/echo-split-header (a header split across chunks) and minimizes it', async () => {
    const r = await runFuzz({
      target: ECHO_FRAME,
      impl: 'museum/echo-split-header',
      seed: 'echo-frame-test',
      runs: 5000,
      clock,
      maxCrashers: 1,
      minimizeExecs: 2000,
    });
    expect(r.crashers).toHaveLength(1);
    const c = r.crashers[0]!;
    // A header cut by a chunk boundary, or by the end of the input (the same bug: a read that ends
    // inside a header).
    expect(['chunking-differs', 'output-differs']).toContain(c.oracle);
    expect(c.input.data.length).toBeLessThanOrEqual(8);
    expect(await replayInput(ECHO_FRAME, 'museum/echo-split-header', c.input)).toMatchObject({
      oracle: c.oracle,
    });
    expect(await replayInput(ECHO_FRAME, 'netlab', c.input)).toBeNull();
  });

  it('judges hand-made inputs: valid streams pass, an oversize length is the typed error', async () => {
    const ok = frames([1, 2, 3], [], [9]);
    expect(await replayInput(ECHO_FRAME, 'netlab', { data: ok, cuts: [1, 2, 6, 7], knob: 1 })).toBeNull();
    // knob 1: a 64-byte limit; a length of 65 fails as ErrFrameTooLarge, which the model expects.
    const over = Uint8Array.from([...ok, ...encodeFrameHeader(65), 1, 2]);
    expect(await replayInput(ECHO_FRAME, 'netlab', { data: over, cuts: [], knob: 1 })).toBeNull();
    // knob 2: empty frames only.
    expect(await replayInput(ECHO_FRAME, 'netlab', { data: frames([], []), cuts: [3], knob: 2 })).toBeNull();
    // A split header: netlab decodes it, the museum decoder does not.
    const split = { data: frames([5, 6], [7]), cuts: [2], knob: 0 };
    expect(await replayInput(ECHO_FRAME, 'netlab', split)).toBeNull();
    expect((await replayInput(ECHO_FRAME, 'museum/echo-split-header', split))?.oracle).toBe(
      'chunking-differs',
    );
  });
});
