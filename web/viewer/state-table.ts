/** The state table: each host's state just after the cursor's event, with what that event changed highlighted. */
import { h } from '../dom.js';
import { changedCells, STATE_COLUMNS, stateRows } from '../viewer-model.js';
import type { ViewerState } from './shared.js';

export function mountStateTable(state: ViewerState): HTMLElement {
  const table = h('table', { class: 'state' });
  const render = (): void => {
    const { model, states, cursor } = state;
    const rowsNow = stateRows(model, states.stateAt(cursor));
    const changed = changedCells(stateRows(model, states.stateAt(cursor - 1)), rowsNow);
    table.replaceChildren(
      h('thead', {}, h('tr', {}, h('th', {}, 'host'), ...STATE_COLUMNS.map((c) => h('th', {}, c)))),
      h(
        'tbody',
        {},
        ...rowsNow.map((r) =>
          h(
            'tr',
            { 'data-host': r.host },
            h('th', {}, r.host),
            ...STATE_COLUMNS.map((c) =>
              h('td', { 'data-col': c, class: changed.has(`${r.host}/${c}`) ? 'changed' : null }, r.cells[c]),
            ),
          ),
        ),
      ),
    );
  };
  state.onCursor(render);
  return table;
}
