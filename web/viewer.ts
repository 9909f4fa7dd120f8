/**
 * The scenario viewer (runs in the browser, part of the report page): one case's trace as a
 * sequence diagram drawn to time scale on a canvas, a filter across every pane, a scrubber with
 * per-host state, a message pane with each stack's decoded fields over a hex dump, charts sharing the
 * diagram's time range, an in-page re-run of the case's scenario (hash check, the rerun drawn as a
 * second diagram on the same time axis, the first divergence marked on both), and a Chrome Trace
 * Event export. The model is web/viewer-model.ts; the panes are in web/viewer/, each over the shared
 * state of web/viewer/shared.ts; this module opens the viewer and puts the panes together.
 */
import type { TraceEvent } from '../sim/trace.js';
import { h, message } from './dom.js';
import { mountCharts, type ChartsHandle } from './viewer-charts.js';
import type { NetlabRunner } from './rerun-entry.js';
import { eventAtTime, parseTrace, TraceSchemaError } from './viewer-model.js';
import { Diagrams } from './viewer/diagrams.js';
import { mountEventList } from './viewer/event-list.js';
import { FilterPane } from './viewer/filter-pane.js';
import { mountMessagePane } from './viewer/message-pane.js';
import { renderRerun } from './viewer/rerun.js';
import { Scrubber } from './viewer/scrubber.js';
import { ViewerState, type ViewerContext } from './viewer/shared.js';
import { mountStateTable } from './viewer/state-table.js';
import { attachKeys, legend, mountToolbar } from './viewer/toolbar.js';

export type { NetlabRunner, ViewerContext };

export interface ViewerHandle {
  destroy(): void;
}

/** Opens the viewer in `host` (emptied first). */
export function openViewer(host: HTMLElement, ctx: ViewerContext): ViewerHandle {
  const controller = new AbortController();
  const signal = controller.signal;
  const status = h('p', { class: 'viewer-status', 'aria-live': 'polite' }, `Decoding ${ctx.tracePath}…`);
  const back = h('button', { type: 'button', class: 'close viewer-back' }, '← Case page (Escape)');
  back.addEventListener('click', ctx.onClose, { signal });
  host.replaceChildren(
    back,
    h('p', { class: 'crumb' }, 'Scenario viewer'),
    h('h2', { id: 'viewer-title', tabindex: -1 }, ctx.title),
    failureLine(ctx),
    status,
  );
  let destroyed = false;
  let inner: ViewerHandle | null = null;
  ctx.loadTrace().then(
    (text) => {
      if (destroyed) return;
      try {
        const parsed = parseTrace(text);
        status.textContent =
          `${parsed.events.length} events · ${ctx.tracePath}` +
          (parsed.badLines > 0 ? ` · ${parsed.badLines} bad line(s) skipped` : '');
        if (parsed.events.length === 0) {
          status.append(h('span', { class: 'problem' }, ' — the trace has no events to show.'));
          return;
        }
        inner = mountViewer(host, ctx, parsed.events, signal);
      } catch (e) {
        // A trace of another schema is refused with its own words; anything else is a viewer bug.
        const text = e instanceof TraceSchemaError ? e.message : `The viewer failed: ${message(e)}`;
        status.replaceChildren(h('span', { class: 'problem', role: 'alert' }, text));
        if (!(e instanceof TraceSchemaError)) console.warn('netlab viewer failed', e);
      }
    },
    (e: unknown) => {
      status.replaceChildren(h('span', { class: 'problem', role: 'alert' }, message(e)));
    },
  );
  document.getElementById('viewer-title')?.focus();
  return {
    destroy() {
      destroyed = true;
      inner?.destroy();
      controller.abort();
    },
  };
}

function failureLine(ctx: ViewerContext): HTMLElement {
  if (ctx.failure === null)
    return h('p', { class: 'muted' }, 'This case did not fail: the viewer opens at the end of its trace.');
  const f = ctx.failure;
  return h(
    'p',
    { class: 'viewer-failure' },
    h('strong', {}, '✗ failed: '),
    h('code', {}, f.invariant ?? '?'),
    f.expected !== null ? ` — expected ${f.expected}` : '',
    f.actual !== null ? `; actual ${f.actual}` : '',
  );
}

/** Where the viewer opens: the message or moment of the URL hash, else the failure pin. */
function openingEvent(state: ViewerState): number {
  const { ctx, events, model } = state;
  if (ctx.msg !== null) {
    const m = model.messages.find((i) => events[i]!.seq === ctx.msg);
    return m ?? state.pin.event;
  }
  return ctx.tUs !== null ? eventAtTime(model, ctx.tUs) : state.pin.event;
}

/** The panes over one shared state, laid out in `host`. */
function mountViewer(
  host: HTMLElement,
  ctx: ViewerContext,
  events: TraceEvent[],
  signal: AbortSignal,
): ViewerHandle {
  const state = new ViewerState(ctx, events, signal);
  let charts: ChartsHandle | null = null;
  const compress = h('input', { type: 'checkbox', id: 'compress', checked: true });
  const diagrams = new Diagrams(state, compress, (topUs, bottomUs) =>
    charts?.setRange(topUs, bottomUs, events[state.cursor]!.tUs),
  );
  const filter = new FilterPane(state);
  const scrubber = new Scrubber(state);
  const eventList = mountEventList(state);
  const chartsPane = h('section', { class: 'charts', 'aria-label': 'Charts' });
  const rerunPane = h('section', { class: 'rerun', 'aria-label': 'Re-run in the page' });
  const viewerMain = h(
    'div',
    { class: 'viewer-main' },
    diagrams.element,
    h(
      'div',
      { class: 'viewer-side' },
      h('div', { class: 'side-state' }, h('h3', {}, 'State at the cursor'), mountStateTable(state)),
      h('div', { class: 'side-msg' }, h('h3', {}, 'Message'), mountMessagePane(state)),
    ),
  );
  host.append(
    mountToolbar(state, diagrams, compress),
    filter.element,
    legend(state),
    viewerMain,
    scrubber.element,
    h('h3', {}, 'Charts over the visible time range (drag across a chart to show that range)'),
    chartsPane,
    h('h3', {}, 'Events around the cursor'),
    eventList.note,
    eventList.list,
    h('h3', {}, 'Re-run in the page'),
    rerunPane,
  );
  attachKeys(host, state, diagrams, scrubber);
  renderRerun(rerunPane, ctx, events, signal, (result) => {
    // The rerun as a second diagram beside the recorded one, on one time axis.
    viewerMain.classList.add('with-rerun');
    diagrams.addRerun(result.trace, result.label, result.divergence);
    state.setDivergence(result.divergence);
    const div = result.divergence;
    if (div !== null && div < state.n) state.setCursor(div);
    else diagrams.requestDraw();
  });
  charts = mountCharts(chartsPane, state.model, events[state.pin.event]!.tUs, {
    onPick: (tUs) => state.setCursor(eventAtTime(state.model, tUs)),
    onRange: (loUs, hiUs) => diagrams.showTimeRange(loUs, hiUs),
  });
  state.onFilter(() => charts?.setFilter(state.filter, state.mask));

  // ---- Opening moment: a filter, a message, a time, or the failure pin ----
  filter.apply(ctx.filter, true);
  diagrams.resize();
  diagrams.fitAll();
  state.setCursor(openingEvent(state));
  diagrams.focus();
  return {
    destroy() {
      scrubber.stop();
      filter.cancelPending();
      diagrams.destroy();
      charts?.destroy();
    },
  };
}
