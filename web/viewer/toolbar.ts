/** The viewer's toolbar (zoom, fit, compress idle time, go to the pin, Chrome trace export), legend and keys. */
import { h } from '../dom.js';
import { toChromeTrace } from '../viewer-model.js';
import type { Diagrams } from './diagrams.js';
import { GLYPH_CHAR } from './draw.js';
import type { Scrubber } from './scrubber.js';
import type { ViewerState } from './shared.js';

export function mountToolbar(
  state: ViewerState,
  diagrams: Diagrams,
  compress: HTMLInputElement,
): HTMLElement {
  const signal = state.signal;
  const button = (cls: string, title: string | null, text: string, fn: () => void): HTMLButtonElement => {
    const b = h('button', { type: 'button', class: cls, title }, text);
    b.addEventListener('click', fn, { signal });
    return b;
  };
  const exportLink = h(
    'a',
    { class: 'export', href: '#', download: 'trace.chrome.json' },
    'Export Chrome trace (Perfetto)',
  );
  exportLink.addEventListener(
    'click',
    () => {
      // Built on demand (a 100 k-event trace makes a few MB of JSON); the link then downloads it.
      const { ctx, model } = state;
      const json = JSON.stringify(toChromeTrace(model, `${ctx.caseId} (${ctx.tracePath})`));
      const old = exportLink.getAttribute('href');
      if (old !== null && old.startsWith('blob:')) URL.revokeObjectURL(old);
      exportLink.href = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
      exportLink.download = `${ctx.caseId.replace(/[^A-Za-z0-9_.-]+/g, '_')}.chrome-trace.json`;
    },
    { signal },
  );
  return h(
    'div',
    { class: 'viewer-toolbar' },
    button('zoom-out', 'Zoom out (−)', '−', () => diagrams.zoomAround(0.5)),
    button('zoom-in', 'Zoom in (+)', '+', () => diagrams.zoomAround(2)),
    button('fit', 'Show the whole trace (0)', 'Fit', () => diagrams.fitAll()),
    h('label', {}, compress, ' compress idle time'),
    button('to-pin', null, '✗ Go to the failure pin', () => state.setCursor(state.pin.event)),
    exportLink,
  );
}

export function legend(state: ViewerState): HTMLElement {
  return h(
    'p',
    { class: 'legend muted' },
    h('span', { class: 'key-arrow' }, '→'),
    ' delivery (slope = latency) · ',
    h('span', { class: 'key-split' }, '→'),
    ' split or merged delivery · ',
    h('span', { class: 'key-arrow' }, '⤺'),
    ' delivery on one host (ipc, inproc) · ',
    Object.entries(GLYPH_CHAR)
      .map(([k, c]) => `${c} ${k}`)
      .join(' · '),
    ' · shaded: faults (orange) and hosts down (blue) · red line: failure pin · grey: outside the filter · compressed idle time gives every event a step, so arrows of zero latency slope too: untick it for true time scale · ',
    h('span', { class: 'muted' }, `pin: ${state.pin.why}`),
  );
}

/** Keys anywhere in the viewer except in text fields: stepping, panning, zooming, messages, playback. */
export function attachKeys(
  host: HTMLElement,
  state: ViewerState,
  diagrams: Diagrams,
  scrubber: Scrubber,
): void {
  const actions: Record<string, () => void> = {
    ArrowLeft: () => state.stepEvent(-1),
    ArrowRight: () => state.stepEvent(1),
    k: () => state.stepEvent(-1),
    j: () => state.stepEvent(1),
    ArrowUp: () => diagrams.pan(-1 / 8),
    ArrowDown: () => diagrams.pan(1 / 8),
    '+': () => diagrams.zoomAround(1.5),
    '=': () => diagrams.zoomAround(1.5),
    '-': () => diagrams.zoomAround(1 / 1.5),
    '0': () => diagrams.fitAll(),
    n: () => state.stepMessage(1),
    p: () => state.stepMessage(-1),
    Home: () => state.setCursor(0),
    End: () => state.setCursor(state.n - 1),
    ' ': () => scrubber.togglePlay(),
  };
  host.addEventListener(
    'keydown',
    (ev) => {
      const t = ev.target as HTMLElement;
      if (t.tagName === 'INPUT') {
        const type = (t as HTMLInputElement).type;
        if (type !== 'range' && type !== 'checkbox') return;
      }
      if (t.tagName === 'SELECT' || t.tagName === 'TEXTAREA') return;
      const act = actions[ev.key];
      if (act === undefined || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      ev.preventDefault();
      act();
    },
    { signal: state.signal },
  );
}
