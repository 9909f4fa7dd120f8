/**
 * The lab over a set of stacks: what the commands ask of "every stack" (parse any scenario, list
 * implementations, families and properties, run or replay any case) answered through the StackPlugin
 * interface. The engine never imports the registry (scenarios/stacks.ts): bin/ and the browser
 * re-run build a Lab from it and pass it in. Isomorphic.
 */
import type { FamilySpec, PropertySpec } from './catalog.js';
import { knownCheckIds } from './checks.js';
import {
  parseEnvelope,
  parseEnvelopeFaults,
  parseEnvelopeFields,
  ScenarioError,
  type Scenario,
} from './model.js';
import { runScenario, stackFor, type RunOptions, type ScenarioResult } from './runner.js';
import type { AnyStack, AnyStackCore, CheckContext, StackCore } from './stack.js';

/**
 * Validates a scenario of `stack`: the envelope, then the stack's fields, then the check ids (against
 * the stack's checks and the engine's, once the stack has defined any). Errors are ScenarioError.
 */
export function parseStackScenario<S extends Scenario, O, C extends CheckContext>(
  stack: StackCore<S, O, C>,
  json: unknown,
): S {
  const base = parseEnvelopeFields(json);
  if (base.stack !== stack.id)
    throw new ScenarioError(`scenario stack: '${base.stack}' is not a ${stack.id} scenario`);
  const scenario = stack.parseScenario(base, json as Record<string, unknown>);
  const checks = stack.checks();
  if (checks.size > 0) {
    const known = knownCheckIds(checks);
    scenario.checks.forEach((c, i) => {
      if (!known.includes(c))
        throw new ScenarioError(`scenario checks[${i}]: unknown check '${c}' (known: ${known.join(', ')})`);
    });
  }
  return parseEnvelopeFaults(scenario);
}

/** A property with the stack it belongs to. */
export interface StackProperty {
  stack: AnyStack;
  family: FamilySpec;
  spec: PropertySpec;
}

export class Lab {
  constructor(readonly stacks: readonly AnyStack[]) {
    const seen = new Set<string>();
    for (const s of stacks) {
      if (seen.has(s.id)) throw new Error(`stack '${s.id}' is registered twice`);
      seen.add(s.id);
    }
  }

  /** Stack ids, in registration order. */
  ids(): string[] {
    return this.stacks.map((s) => s.id);
  }

  stack(id: string): AnyStack | undefined {
    return this.stacks.find((s) => s.id === id);
  }

  /** The stacks a `--stack ID[,ID]` selection names ("all" or undefined: every stack). */
  select(selection: string | undefined): AnyStack[] {
    if (selection === undefined || selection === 'all') return [...this.stacks];
    const out: AnyStack[] = [];
    for (const id of selection.split(',').map((x) => x.trim())) {
      const s = this.stack(id);
      if (s === undefined)
        throw new ScenarioError(`unknown stack '${id}' (accepted: all, ${this.ids().join(', ')})`);
      if (!out.includes(s)) out.push(s);
    }
    return out;
  }

  /** The stack of a scenario (by its `stack` field). */
  stackOf(scenario: { stack: string }): AnyStack {
    return stackFor(this.stacks, scenario);
  }

  /** Validates a scenario of any registered stack. */
  parseScenario(json: unknown): Scenario {
    const stackId = (json as { stack?: unknown } | null)?.stack;
    const stack = typeof stackId === 'string' ? this.stack(stackId) : undefined;
    if (stack === undefined) {
      parseEnvelope(json); // names a missing or malformed envelope first
      throw new ScenarioError(
        `scenario stack: unknown stack '${String(stackId)}' (known: ${this.ids().join(', ')})`,
      );
    }
    return parseStackScenario(stack as AnyStackCore, json) as Scenario;
  }

  /** Runs a scenario of any registered stack on the simulated network. */
  runScenario(scenario: Scenario, simSeed: string, options: RunOptions = {}): Promise<ScenarioResult> {
    return runScenario(this.stackOf(scenario) as AnyStackCore, scenario, simSeed, options);
  }

  /** Every implementation name: netlab first, then each stack's variants, in registration order. */
  implNames(): string[] {
    const out = ['netlab'];
    for (const s of this.stacks) for (const name of s.impls().keys()) if (!out.includes(name)) out.push(name);
    return out;
  }

  /** The stack a variant belongs to (undefined for netlab, which every stack has, and unknown names). */
  implStack(name: string): AnyStack | undefined {
    return this.stacks.find((s) => s.impls().has(name));
  }

  /** A variant's description and the family meant to catch it. */
  implInfo(name: string): { summary: string; family: string | null } | undefined {
    if (name === 'netlab')
      return { summary: 'netlab as built: the real stack, nothing swapped', family: null };
    return this.implStack(name)?.impls().get(name);
  }

  /** Every property of the given stacks (default: all), in family order. */
  properties(stacks: readonly AnyStack[] = this.stacks): StackProperty[] {
    return stacks.flatMap((stack) =>
      stack.families.flatMap((family) => family.properties.map((spec) => ({ stack, family, spec }))),
    );
  }
}
