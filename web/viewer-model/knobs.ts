/** Rerun knobs: the scenario the viewer's rerun form describes. */

export interface RerunKnobs {
  simSeed: string;
  /** Uniform latency bounds, µs (null: keep the scenario's latency model). */
  latencyMinUs: number | null;
  latencyMaxUs: number | null;
  /** Segment loss probability (null: keep). */
  lossRate: number | null;
  /** Indices of fault steps to remove from the scenario's fault plan. */
  removeFaults: number[];
}

/**
 * A copy of `scenario` with the knobs applied. Knows only the fields it changes (network.latency,
 * network.lossRate, faults.faults), so it works on the scenario JSON as the case file holds it; the
 * runner validates the result.
 */
export function applyKnobs(scenario: unknown, knobs: RerunKnobs): unknown {
  const s = JSON.parse(JSON.stringify(scenario)) as {
    network?: { latency?: unknown; lossRate?: number };
    faults?: { faults?: unknown[] };
  };
  if (s.network !== undefined) {
    if (knobs.latencyMinUs !== null && knobs.latencyMaxUs !== null)
      s.network.latency = { kind: 'uniform', minUs: knobs.latencyMinUs, maxUs: knobs.latencyMaxUs };
    if (knobs.lossRate !== null) s.network.lossRate = knobs.lossRate;
  }
  if (s.faults?.faults !== undefined) {
    const drop = new Set(knobs.removeFaults);
    s.faults.faults = s.faults.faults.filter((_, i) => !drop.has(i));
  }
  return s;
}
