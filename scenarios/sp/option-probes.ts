/**
 * The actor's side of options through the public API: a scenario socket's options are set with
 * setOption after it opens (a refusal is recorded with the option named, not thrown), and its
 * option probes (SocketSpec.optionProbes, the options family) read, set and read back generated
 * values, recording each outcome for the checks of families/options.ts. Setting happens through the
 * public Socket / Dialer / Listener API only, as an application would.
 */
import { fromHex, toHex } from '../../impl/runtime/bytes.js';
import type { Socket } from '../../impl/sp/core/socket.js';
import type { OptionName, OptionValues } from '../../impl/sp/options.js';
import type { OptionOutcome, OptionProbeRecord } from './checks.js';
import type { ProbeValue, SocketSpec } from './model.js';

/** Where a probe's dialer / listener points: never started, so never dialed nor bound. */
const PROBE_ADDRESS = 'inproc://netlab-option-probe';

/** The value a probe sets, as JavaScript (bytes as a Uint8Array, specials as themselves). */
export function fromProbeValue(v: ProbeValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if ('hex' in v) return fromHex(v.hex);
  switch (v.special) {
    case 'NaN':
      return Number.NaN;
    case 'Infinity':
      return Number.POSITIVE_INFINITY;
    case '-Infinity':
      return Number.NEGATIVE_INFINITY;
    case 'bigint':
      return 1n;
    case 'object':
      return {};
  }
}

/** A value read from the stack, as probe JSON (what the checks compare). */
export function toProbeValue(v: unknown): ProbeValue {
  if (v instanceof Uint8Array) return { hex: toHex(v) };
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { special: 'NaN' };
    if (v === Number.POSITIVE_INFINITY) return { special: 'Infinity' };
    if (v === Number.NEGATIVE_INFINITY) return { special: '-Infinity' };
    return v;
  }
  if (typeof v === 'boolean' || typeof v === 'string' || v === null) return v;
  if (typeof v === 'bigint') return { special: 'bigint' };
  return { special: 'object' };
}

/** An error as the checks see it: its stable code, else `untyped: <message>`. */
export function errorText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return code;
  return `untyped: ${e instanceof Error ? e.message : String(e)}`;
}

interface OptionTarget {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
}

function read(t: OptionTarget, name: string): OptionOutcome {
  try {
    return { value: toProbeValue(t.get(name)) };
  } catch (e) {
    return { error: errorText(e) };
  }
}

/**
 * Sets the scenario's options on a freshly opened socket through setOption, in the scenario's
 * order, skipping those the implementation variant forces (`forced`: the variant wins). Returns the
 * refusals (nothing is thrown): the caller records them and fails the run naming the option.
 */
export function applyScenarioOptions(
  spec: SocketSpec,
  s: Socket,
  forced: Partial<OptionValues> = {},
): { name: string; value: ProbeValue; error: string }[] {
  const refused: { name: string; value: ProbeValue; error: string }[] = [];
  for (const [name, value] of Object.entries(spec.options)) {
    if (value === undefined || Object.hasOwn(forced, name)) continue;
    try {
      s.setOption(name, value);
    } catch (e) {
      refused.push({ name, value: toProbeValue(value), error: errorText(e) });
    }
  }
  return refused;
}

/**
 * Runs a socket's option probes: for each, the option read before, the set, the option read after
 * (a dialer / listener probe uses a fresh endpoint of the socket that is never started; it reads
 * through `option()`, the endpoint's view: its own value, else the socket's).
 */
export function runOptionProbes(spec: SocketSpec, s: Socket): OptionProbeRecord[] {
  const out: OptionProbeRecord[] = [];
  for (const p of spec.optionProbes ?? []) {
    let t: OptionTarget;
    if (p.target === 'socket')
      t = { get: (n) => s.getOption(n as OptionName), set: (n, v) => s.setOption(n, v) };
    else {
      const ep = p.target === 'dialer' ? s.newDialer(PROBE_ADDRESS) : s.newListener(PROBE_ADDRESS);
      t = { get: (n) => ep.option(n as OptionName), set: (n, v) => ep.setOption(n, v) };
    }
    const before = read(t, p.name);
    let set: OptionProbeRecord['set'];
    try {
      t.set(p.name, fromProbeValue(p.value));
      set = { ok: true };
    } catch (e) {
      set = { error: errorText(e) };
    }
    out.push({ target: p.target, name: p.name, value: p.value, before, set, after: read(t, p.name) });
  }
  return out;
}
