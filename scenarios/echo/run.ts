/**
 * The echo stack's core (StackCore: parse, start, checks, variants, transports) and its runner bound
 * to it: `runEchoScenario(scenario, simSeed)` runs an echo scenario on the simulated network through
 * the engine's runner; `defineEchoScenario` writes one by hand with the rarely-needed fields
 * defaulted. Echo lab code and tests import the runner's pieces from here.
 */
import { parseStackScenario } from '../lab.js';
import { runScenario, type RunOptions, type ScenarioResult } from '../runner.js';
import type { ImplInfo, StackCore } from '../stack.js';
import { NETLAB_VARIANT, scheduledUntilUs, startEchoActors, type EchoVariant } from './actors.js';
import { ECHO_CHECKS, type EchoCheckContext, type EchoObservations } from './checks.js';
import {
  ECHO_STACK,
  echoTransports,
  parseEchoFields,
  SCENARIO_VERSION,
  type EchoScenario,
  type EchoScenarioInput,
} from './model.js';
import { ECHO_MUSEUM } from './museum/index.js';

/** A run of an echo scenario. */
export type EchoResult = ScenarioResult<EchoObservations>;

/** An echo implementation variant by name: netlab, or one of the museum. */
export function echoVariant(name: string): EchoVariant | undefined {
  return name === 'netlab' ? NETLAB_VARIANT : ECHO_MUSEUM.get(name);
}

export const echoCore: StackCore<EchoScenario, EchoObservations, EchoCheckContext> = {
  id: ECHO_STACK,
  parseScenario: parseEchoFields,
  start(scenario, impl) {
    const variant = echoVariant(impl);
    if (variant === undefined)
      throw new Error(
        `unknown implementation '${impl}' (known: netlab, ${[...ECHO_MUSEUM.keys()].join(', ')})`,
      );
    return startEchoActors(scenario, variant);
  },
  checks: () => ECHO_CHECKS,
  impls: (): ReadonlyMap<string, ImplInfo> => ECHO_MUSEUM,
  transportsOf: echoTransports,
  protocolsOf: () => ['echo'],
  scheduledUntilUs,
};

/** Runs an echo scenario on the simulated network. */
export function runEchoScenario(
  scenario: EchoScenario,
  simSeed: string,
  options: RunOptions = {},
): Promise<EchoResult> {
  return runScenario(echoCore, scenario, simSeed, options);
}

/** Validates an echo scenario (envelope and echo fields, check ids against the echo checks). */
export function parseEchoScenario(json: unknown): EchoScenario {
  return parseStackScenario(echoCore, json);
}

/** A calm network: 1 ms latency, no loss, whole writes, 64 KiB windows. */
export const CALM_NETWORK: EchoScenario['network'] = {
  latency: { kind: 'constant', us: 1000 },
  jitterUs: 0,
  lossRate: 0,
  randomChunking: false,
  partialWriteProbability: 0,
  sendBufferBytes: 65536,
  recvBufferBytes: 65536,
};

/** An echo scenario as written by hand: the envelope's fields a test rarely cares about may be left out. */
export type EchoScenarioDraft = Omit<
  EchoScenarioInput,
  'version' | 'stack' | 'name' | 'impl' | 'network' | 'faults' | 'faultPhaseUs' | 'livenessUs' | 'checks'
> &
  Partial<Pick<EchoScenarioInput, 'name' | 'impl' | 'faults' | 'faultPhaseUs' | 'livenessUs' | 'checks'>> & {
    network?: Partial<EchoScenario['network']>;
  };

/** Every echo check: what a hand-written scenario evaluates unless it names its own. */
export const ALL_ECHO_CHECKS: readonly string[] = ['stack.no-crash', ...ECHO_CHECKS.keys()];

/**
 * A hand-written echo scenario: a calm network, no faults, netlab, a 10 s liveness phase and every
 * check unless given; validated like a case file.
 */
export function defineEchoScenario(draft: EchoScenarioDraft): EchoScenario {
  return parseEchoScenario({
    version: SCENARIO_VERSION,
    stack: ECHO_STACK,
    name: 'hand-written',
    impl: 'netlab',
    faults: { version: 1, faults: [] },
    faultPhaseUs: 0,
    livenessUs: 10_000_000,
    checks: ALL_ECHO_CHECKS,
    ...draft,
    network: { ...CALM_NETWORK, ...draft.network },
  });
}
