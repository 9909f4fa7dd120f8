import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../impl/sp/wire/frames.js';
import {
  checkScenarios,
  defineScenario,
  registerImpl,
  replayCase,
  runScenario,
  scenarioArb,
  ScenarioPropertyError,
  topology,
} from './api.js';

// A user's broken implementation, registered like a museum variant: it drops the last byte of every
// received payload of 2 bytes or more.
registerImpl('example/truncating', {
  summary: 'a decoder that loses the last byte of a payload',
  family: null,
  socket: () => ({
    socketOptions: {
      frameDecoder: (options) => {
        const real = new FrameDecoder(options);
        return {
          feed: (chunk, onFrame) => real.feed(chunk, (p) => onFrame(p.length >= 2 ? p.subarray(0, -1) : p)),
        };
      },
    },
  }),
});

const arb = (impl: string) => scenarioArb({ protocol: 'pair0', impl, maxFaults: 1 });

async function failure(p: Promise<unknown>): Promise<ScenarioPropertyError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioPropertyError);
    return e as ScenarioPropertyError;
  }
  throw new Error('expected checkScenarios to throw');
}

describe('checkScenarios', () => {
  it('resolves for netlab with a fixed seed and bounded runs', async () => {
    const outcome = await checkScenarios(arb('netlab'), { seed: 3, runs: 20 });
    expect(outcome.ok).toBe(true);
    expect(outcome.runs).toBe(20);
  });

  it('throws a message with the shrunk case, seeds, path and replay hints', async () => {
    const e = await failure(checkScenarios(arb('example/truncating'), { seed: 3, runs: 20 }));
    const c = e.caseFile;
    expect(e.message).toContain('failing checks:\n  delivery.intact-in-order: expected');
    expect(e.message).toContain(
      `fcSeed: 3  fcPath: ${JSON.stringify(c.fcPath)}  simSeed: ${JSON.stringify(c.simSeed)}`,
    );
    expect(e.message).toContain(`checkScenarios(arb, { seed: 3, path: ${JSON.stringify(c.fcPath)} })`);
    expect(e.message).toContain('netlab replay case.json');
    expect(e.message).toContain('"impl": "example/truncating"');
    // The case file replays exactly, and the seed + path go straight back to it.
    expect((await replayCase(c)).reproduced).toBe(true);
    const again = await failure(
      checkScenarios(arb('example/truncating'), { seed: 3, runs: 20, path: c.fcPath }),
    );
    expect(again.caseFile.scenario).toEqual(c.scenario);
    expect((await runScenario(c.scenario, c.simSeed)).ok).toBe(false);
  });

  it('runs hand-written scenarios from defineScenario', async () => {
    const s = defineScenario({
      ...topology({ pattern: 'pair0', transport: 'tcp' }),
      workload: { sends: [{ socket: 'client0', bytes: 10 }] },
      checks: ['delivery.intact-in-order', 'delivery.all-delivered'],
    });
    expect((await runScenario(s, 'x')).ok).toBe(true);
    expect((await runScenario({ ...s, impl: 'example/truncating' }, 'x')).ok).toBe(false);
  });
});
