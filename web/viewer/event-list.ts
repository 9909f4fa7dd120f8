/** The list of events around the cursor (only matching ones when filtered); a click moves the cursor. */
import { h } from '../dom.js';
import { formatUs } from '../model.js';
import { describeEvent, lowerBound } from '../viewer-model.js';
import type { ViewerState } from './shared.js';

/** Rows of the event list around the cursor. */
const EVENT_LIST_BEFORE = 8;
const EVENT_LIST_AFTER = 12;

/** The rows of the event list: matching events around the cursor, and the cursor's own event. */
function eventRows(state: ViewerState): number[] {
  const { mask, cursor, n } = state;
  if (mask === null) {
    const out: number[] = [];
    for (
      let i = Math.max(0, cursor - EVENT_LIST_BEFORE);
      i <= Math.min(n - 1, cursor + EVENT_LIST_AFTER);
      i++
    )
      out.push(i);
    return out;
  }
  const at = lowerBound(mask.matching, cursor);
  const before = Array.from(mask.matching.slice(Math.max(0, at - EVENT_LIST_BEFORE), at));
  const rest = Array.from(mask.matching.slice(at, at + EVENT_LIST_AFTER + 1));
  return rest[0] === cursor ? [...before, ...rest] : [...before, cursor, ...rest.slice(0, EVENT_LIST_AFTER)];
}

/** The list and the note above it; re-rendered when the cursor, the filter or the divergence changes. */
export function mountEventList(state: ViewerState): { list: HTMLElement; note: HTMLElement } {
  const list = h('table', { class: 'events' });
  const note = h('p', { class: 'muted events-note' });
  const render = (): void => {
    const rows = eventRows(state).map((i) => {
      const e = state.events[i]!;
      const cls = [
        i === state.cursor ? 'current' : '',
        i === state.pin.event ? 'pin' : '',
        i === state.divergence ? 'diverge' : '',
        state.matches(i) ? '' : 'unmatched',
      ].filter((x) => x !== '');
      return h(
        'tr',
        { 'data-event': i, class: cls.join(' ') || null },
        h('td', { class: 'num' }, `#${e.seq}`),
        h('td', { class: 'num' }, formatUs(e.tUs)),
        h('td', {}, e.host ?? '·'),
        h('td', {}, describeEvent(e)),
      );
    });
    note.textContent =
      state.mask === null
        ? ''
        : `Filtered: only the ${state.mask.matching.length} matching events are listed around the cursor.`;
    list.replaceChildren(
      h(
        'thead',
        {},
        h('tr', {}, h('th', {}, 'seq'), h('th', {}, 'time'), h('th', {}, 'host'), h('th', {}, 'event')),
      ),
      h('tbody', {}, ...rows),
    );
  };
  state.onCursor(render);
  state.onFilter(render);
  state.onDivergence(render);
  list.addEventListener(
    'click',
    (ev) => {
      const tr = (ev.target as Element).closest('tr[data-event]');
      if (tr instanceof HTMLElement) state.setCursor(Number(tr.dataset.event));
    },
    { signal: state.signal },
  );
  return { list, note };
}
