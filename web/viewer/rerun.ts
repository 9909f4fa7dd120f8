/**
 * Re-run in the page: the case's scenario rerun in the browser (the simulator, the stack and the
 * runner are isomorphic) with its recorded seed and knobs or changed ones; the trace hash compared
 * with the one Node recorded, the checks listed, and the first divergence from the recorded trace
 * shown side by side. The rerun's trace goes to the diagram pane through `onResult`.
 */
import { eventDigest, firstDivergence, type TraceEvent } from '../../sim/trace.js';
import { h, message } from '../dom.js';
import { formatUs } from '../model.js';
import { applyKnobs, describeEvent, type RerunKnobs } from '../viewer-model.js';
import { isObject, type ViewerContext } from './shared.js';

/** Events kept from a rerun (the same bound netlab run uses for a failing case's trace). */
const RERUN_TRACE_EVENTS_MAX = 500_000;
/** Rows of the aligned old/new table around the first divergence. */
const DIFF_ROWS_BEFORE = 4;
const DIFF_ROWS_AFTER = 12;

/** A finished rerun: its trace (aligned by seq with the recorded one), a short description, the first divergence. */
export interface RerunResult {
  trace: TraceEvent[];
  label: string;
  divergence: number | null;
}

type Counterexample = NonNullable<ViewerContext['counterexample']>;

/** The form's inputs, filled with the recorded knobs. */
class KnobsForm {
  readonly seed: HTMLInputElement;
  readonly latMin: HTMLInputElement;
  readonly latMax: HTMLInputElement;
  readonly loss: HTMLInputElement;
  readonly faultBoxes: HTMLElement[];
  readonly network: Record<string, unknown>;
  readonly latency: Record<string, unknown>;

  constructor(
    private readonly cx: Counterexample,
    scenario: Record<string, unknown>,
  ) {
    this.network = isObject(scenario.network) ? scenario.network : {};
    this.latency = isObject(this.network.latency) ? this.network.latency : {};
    const faults =
      isObject(scenario.faults) && Array.isArray(scenario.faults.faults) ? scenario.faults.faults : [];
    this.seed = h('input', { type: 'text', class: 'seed', value: cx.simSeed, 'aria-label': 'simSeed' });
    const num = (
      cls: string,
      label: string,
      v: unknown,
      extra: Record<string, number> = {},
    ): HTMLInputElement =>
      h('input', {
        type: 'number',
        class: cls,
        min: 0,
        ...extra,
        value: typeof v === 'number' ? v : '',
        'aria-label': label,
      });
    this.latMin = num('lat-min', 'latency min µs', this.latency.minUs);
    this.latMax = num('lat-max', 'latency max µs', this.latency.maxUs);
    this.loss = num('loss', 'loss rate', this.network.lossRate, { max: 1, step: 0.001 });
    this.faultBoxes = faults.map((f, i) =>
      h(
        'label',
        { class: 'fault-opt' },
        h('input', { type: 'checkbox', class: 'remove-fault', 'data-fault': i }),
        ` remove fault ${i}: ${JSON.stringify(f)}`,
      ),
    );
  }

  /** Back to the recorded knobs. */
  reset(pane: HTMLElement): void {
    const text = (v: unknown): string => (typeof v === 'number' ? String(v) : '');
    this.seed.value = this.cx.simSeed;
    this.latMin.value = text(this.latency.minUs);
    this.latMax.value = text(this.latency.maxUs);
    this.loss.value = text(this.network.lossRate);
    pane.querySelectorAll<HTMLInputElement>('input.remove-fault').forEach((b) => (b.checked = false));
  }

  knobs(pane: HTMLElement): RerunKnobs {
    const num = (el: HTMLInputElement): number | null => (el.value.trim() === '' ? null : Number(el.value));
    const knobs: RerunKnobs = {
      simSeed: this.seed.value,
      latencyMinUs: num(this.latMin),
      latencyMaxUs: num(this.latMax),
      lossRate: num(this.loss),
      removeFaults: [...pane.querySelectorAll<HTMLInputElement>('input.remove-fault')]
        .filter((b) => b.checked)
        .map((b) => Number(b.dataset.fault)),
    };
    // Unchanged latency knobs keep the scenario's own latency model (it may not be uniform).
    if (knobs.latencyMinUs === this.latency.minUs && knobs.latencyMaxUs === this.latency.maxUs) {
      knobs.latencyMinUs = null;
      knobs.latencyMaxUs = null;
    }
    return knobs;
  }

  /** What differs from the recorded run, in a few words. */
  describe(knobs: RerunKnobs): string[] {
    return [
      knobs.simSeed !== this.cx.simSeed ? `seed ${knobs.simSeed}` : `seed ${knobs.simSeed} (recorded)`,
      knobs.latencyMinUs !== null ? `latency ${knobs.latencyMinUs}–${knobs.latencyMaxUs} µs` : '',
      knobs.lossRate !== null && knobs.lossRate !== this.network.lossRate ? `loss ${knobs.lossRate}` : '',
      knobs.removeFaults.length > 0 ? `fault ${knobs.removeFaults.join(', ')} removed` : '',
    ].filter((x) => x !== '');
  }
}

export function renderRerun(
  pane: HTMLElement,
  ctx: ViewerContext,
  original: TraceEvent[],
  signal: AbortSignal,
  onResult: (result: RerunResult) => void,
): void {
  const cx = ctx.counterexample;
  if (cx === null || !isObject(cx.scenario)) {
    pane.replaceChildren(
      h('p', { class: 'muted' }, 'This case has no recorded scenario (no counterexample): nothing to rerun.'),
    );
    return;
  }
  const scenario = cx.scenario;
  const form = new KnobsForm(cx, scenario);
  const run = h('button', { type: 'button', class: 'rerun-btn' }, 'Rerun in this page');
  const reset = h('button', { type: 'button', class: 'rerun-reset' }, 'Recorded knobs');
  const out = h('div', { class: 'rerun-out', 'aria-live': 'polite' });
  pane.replaceChildren(
    h(
      'p',
      { class: 'muted' },
      'The simulator, the stack and the runner are isomorphic: this reruns the case’s scenario here, in the browser. ' +
        'With the recorded seed and knobs the trace hash must equal the one recorded by Node.',
    ),
    h(
      'div',
      { class: 'rerun-form' },
      h('label', {}, 'simSeed ', form.seed),
      h('label', {}, 'latency µs ', form.latMin, ' – ', form.latMax),
      h('label', {}, 'loss rate ', form.loss),
      ...form.faultBoxes,
      h('div', {}, run, ' ', reset),
    ),
    out,
  );
  reset.addEventListener('click', () => form.reset(pane), { signal });
  run.addEventListener(
    'click',
    () => {
      const knobs = form.knobs(pane);
      run.disabled = true;
      out.replaceChildren(h('p', { class: 'rerun-status' }, 'Loading the runner and rerunning…'));
      void rerunOnce(ctx, scenario, knobs, original, signal)
        .then((r) => {
          if (r === null) return;
          out.replaceChildren(...r.view);
          onResult({
            trace: r.trace,
            label: `${form.describe(knobs).join(', ')} · ${r.trace.length} events${r.same ? ' · same hash' : ''}`,
            divergence: r.divergence < 0 ? null : r.divergence,
          });
        })
        .catch((e: unknown) => {
          out.replaceChildren(h('p', { class: 'problem', role: 'alert' }, `The rerun failed: ${message(e)}`));
        })
        .finally(() => {
          run.disabled = false;
        });
    },
    { signal },
  );
}

/** Runs the scenario with the knobs; null when the viewer closed meanwhile. */
async function rerunOnce(
  ctx: ViewerContext,
  scenario: Record<string, unknown>,
  knobs: RerunKnobs,
  original: TraceEvent[],
  signal: AbortSignal,
): Promise<{ trace: TraceEvent[]; same: boolean; divergence: number; view: HTMLElement[] } | null> {
  const runner = await ctx.loadRunner();
  const parsed = runner.parseScenario(applyKnobs(scenario, knobs));
  const t0 = performance.now();
  const r = await runner.runScenario(parsed, knobs.simSeed, { traceCapacity: RERUN_TRACE_EVENTS_MAX });
  const wallMs = performance.now() - t0;
  if (signal.aborted) return null;
  const recorded = ctx.counterexample?.traceHash ?? null;
  const same = recorded !== null && r.traceHash === recorded;
  // A trace file keeps the last events of a long run: align by seq.
  const offset = original[0]?.seq ?? 0;
  const trace = offset > 0 ? r.trace.slice(offset) : r.trace;
  const div = firstDivergence(original, trace);
  const hashLine = h(
    'p',
    { class: `hash-line ${same ? 'same' : 'differs'}` },
    'trace hash ',
    h('code', { 'data-field': 'rerun-hash' }, r.traceHash),
    ' · recorded (Node) ',
    h('code', { 'data-field': 'recorded-hash' }, recorded ?? '?'),
    ' · ',
    h('strong', { 'data-field': 'hash-verdict' }, same ? '✓ same' : '≠ different'),
    ` · ${r.trace.length} trace events, ${formatUs(r.virtualUs)} virtual in ${wallMs.toFixed(0)} ms`,
  );
  const checks = h(
    'ul',
    { class: 'rerun-checks' },
    ...r.checks.map((c) =>
      h(
        'li',
        {
          'data-check': c.id,
          class: `s-${c.status === 'fail' ? 'fail' : c.status === 'pass' ? 'pass' : 'skip'}`,
        },
        `${c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : '–'} ${c.id}: ${c.status}`,
        c.actual !== null && c.status === 'fail' ? ` (${c.actual})` : '',
      ),
    ),
  );
  return { trace, same, divergence: div, view: [hashLine, checks, divergenceView(original, trace, div)] };
}

/** The recorded and rerun traces side by side, aligned by event index, around the first divergence. */
function divergenceView(a: readonly TraceEvent[], b: readonly TraceEvent[], div: number): HTMLElement {
  if (div < 0)
    return h(
      'p',
      { class: 'divergence none', 'data-field': 'divergence' },
      `Identical traces: all ${a.length} events agree.`,
    );
  const from = Math.max(0, div - DIFF_ROWS_BEFORE);
  const to = Math.min(Math.max(a.length, b.length), div + DIFF_ROWS_AFTER);
  const cell = (e: TraceEvent | undefined): HTMLElement =>
    h(
      'td',
      {},
      e === undefined ? '(none: trace ended)' : `${formatUs(e.tUs)} ${e.host ?? '·'} ${describeEvent(e)}`,
    );
  const rows: HTMLElement[] = [];
  for (let i = from; i < to; i++) {
    const ea = a[i];
    const eb = b[i];
    const differs = ea === undefined || eb === undefined || eventDigest(ea) !== eventDigest(eb);
    rows.push(
      h(
        'tr',
        {
          class: `${i === div ? 'diverge' : ''}${differs ? ' differs' : ''}`.trim() || null,
          'data-index': i,
        },
        h('td', { class: 'num' }, i === div ? `≠ ${i}` : String(i)),
        cell(ea),
        cell(eb),
      ),
    );
  }
  return h(
    'div',
    { class: 'divergence' },
    h(
      'p',
      { 'data-field': 'divergence' },
      h('strong', {}, `First divergence at event ${div}`),
      ` (of ${a.length} recorded, ${b.length} rerun); marked on both diagrams.`,
    ),
    h(
      'table',
      { class: 'diff' },
      h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'recorded'), h('th', {}, 'rerun'))),
      h('tbody', {}, ...rows),
    ),
  );
}
