/**
 * defineScenario: a scenario written by hand, with every field a test rarely cares about defaulted
 * (a calm network, no faults, netlab as the implementation, a 10 s liveness phase) and the whole
 * value validated like a case file. Used by netlab's own tests and exported for users' vitest files.
 */
import type { OptionValues } from '../../impl/sp/options.js';
import { SCENARIO_VERSION, SP_STACK, type Scenario, type ScenarioInput } from './model.js';
import { parseScenario } from './run.js';

/** A calm network: 1 ms latency, no loss, whole writes, 64 KiB windows. */
export const CALM_NETWORK: Scenario['network'] = {
  latency: { kind: 'constant', us: 1000 },
  jitterUs: 0,
  lossRate: 0,
  randomChunking: false,
  partialWriteProbability: 0,
  sendBufferBytes: 65536,
  recvBufferBytes: 65536,
};

/** A socket as written by hand: listen, dial, options and startUs may be left out. */
export type SocketDraft = Omit<ScenarioInput['sockets'][number], 'options'> & {
  options?: Partial<OptionValues>;
};

export type ScenarioDraft = Omit<
  ScenarioInput,
  'version' | 'stack' | 'name' | 'impl' | 'network' | 'faults' | 'faultPhaseUs' | 'livenessUs' | 'sockets'
> & {
  sockets: readonly SocketDraft[];
} & Partial<Pick<ScenarioInput, 'name' | 'impl' | 'faults' | 'faultPhaseUs' | 'livenessUs'>> & {
    network?: Partial<Scenario['network']>;
  };

export function defineScenario(draft: ScenarioDraft): Scenario {
  return parseScenario({
    version: SCENARIO_VERSION,
    stack: SP_STACK,
    name: 'hand-written',
    impl: 'netlab',
    faults: { version: 1, faults: [] },
    faultPhaseUs: 0,
    livenessUs: 10_000_000,
    ...draft,
    network: { ...CALM_NETWORK, ...draft.network },
  });
}
