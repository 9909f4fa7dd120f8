/**
 * The reactor stack's core (StackCore) and its runner bound to it: `runReactorScenario` runs a
 * reactor scenario on the simulated network; `defineReactorScenario` writes one by hand.
 */
import { parseStackScenario } from '../lab.js';
import { runScenario, type RunOptions, type ScenarioResult } from '../runner.js';
import type { ImplInfo, StackCore } from '../stack.js';
import {
  NETLAB_VARIANT,
  startReactorActors,
  type ReactorCheckContext,
  type ReactorVariant,
} from './actors.js';
import { REACTOR_CHECKS } from './checks.js';
import {
  parseReactorFields,
  REACTOR_STACK,
  reactorTransports,
  SCENARIO_VERSION,
  scheduledUntilUs,
  type ReactorScenario,
  type ReactorScenarioInput,
} from './model.js';
import { REACTOR_MUSEUM } from './museum/index.js';
import type { ReactorObservations } from './observations.js';

export type ReactorResult = ScenarioResult<ReactorObservations>;

export function reactorVariant(name: string): ReactorVariant | undefined {
  return name === 'netlab' ? NETLAB_VARIANT : REACTOR_MUSEUM.get(name);
}

export const reactorCore: StackCore<ReactorScenario, ReactorObservations, ReactorCheckContext> = {
  id: REACTOR_STACK,
  parseScenario: parseReactorFields,
  start(scenario, impl) {
    const variant = reactorVariant(impl);
    if (variant === undefined)
      throw new Error(
        `unknown implementation '${impl}' (known: netlab, ${[...REACTOR_MUSEUM.keys()].join(', ')})`,
      );
    return startReactorActors(scenario, variant);
  },
  checks: () => REACTOR_CHECKS,
  impls: (): ReadonlyMap<string, ImplInfo> => REACTOR_MUSEUM,
  transportsOf: reactorTransports,
  protocolsOf: () => ['reactor'],
  scheduledUntilUs,
};

export function runReactorScenario(
  scenario: ReactorScenario,
  simSeed: string,
  options: RunOptions = {},
): Promise<ReactorResult> {
  return runScenario(reactorCore, scenario, simSeed, options);
}

export function parseReactorScenario(json: unknown): ReactorScenario {
  return parseStackScenario(reactorCore, json);
}

export const CALM_NETWORK: ReactorScenario['network'] = {
  latency: { kind: 'constant', us: 1000 },
  jitterUs: 0,
  lossRate: 0,
  randomChunking: false,
  partialWriteProbability: 0,
  sendBufferBytes: 65536,
  recvBufferBytes: 65536,
};

export type ReactorScenarioDraft = Omit<
  ReactorScenarioInput,
  'version' | 'stack' | 'name' | 'impl' | 'network' | 'faults' | 'faultPhaseUs' | 'livenessUs' | 'checks'
> &
  Partial<
    Pick<ReactorScenarioInput, 'name' | 'impl' | 'faults' | 'faultPhaseUs' | 'livenessUs' | 'checks'>
  > & {
    network?: Partial<ReactorScenario['network']>;
  };

export const ALL_REACTOR_CHECKS: readonly string[] = ['stack.no-crash', ...REACTOR_CHECKS.keys()];

/** A hand-written reactor scenario: a calm network, no faults, netlab, every check unless given. */
export function defineReactorScenario(draft: ReactorScenarioDraft): ReactorScenario {
  return parseReactorScenario({
    version: SCENARIO_VERSION,
    stack: REACTOR_STACK,
    name: 'hand-written',
    impl: 'netlab',
    faults: { version: 1, faults: [] },
    faultPhaseUs: 0,
    livenessUs: 10_000_000,
    checks: ALL_REACTOR_CHECKS,
    ...draft,
    network: { ...CALM_NETWORK, ...draft.network },
  });
}
