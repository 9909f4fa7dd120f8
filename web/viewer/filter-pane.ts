/**
 * The filter box: `host:NAME conn:ID words`, applied across every pane a moment after typing stops
 * (Enter at once; Escape clears it), with a status line saying what it selects and what it cannot.
 */
import { h } from '../dom.js';
import { parseFilter } from '../viewer-model.js';
import type { ViewerState } from './shared.js';

/** The filter applies this long (ms) after the last key (Enter applies it at once). */
const FILTER_DEBOUNCE_MS = 150;

export class FilterPane {
  readonly element: HTMLElement;
  private readonly input: HTMLInputElement;
  private readonly status = h('span', {
    id: 'filter-status',
    class: 'filter-status muted',
    'aria-live': 'polite',
  });
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly state: ViewerState) {
    const model = state.model;
    this.input = h('input', {
      type: 'search',
      class: 'filter',
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: `host:${model.hosts[0]?.name ?? 'server'} conn:${model.conns[0]?.id ?? 1} corr=…`,
      'aria-label': 'Filter: host:NAME, conn:ID (or conn:inproc), and words the events must contain',
      'aria-describedby': 'filter-status',
    });
    this.element = h('div', { class: 'viewer-filter' }, h('label', {}, 'Filter ', this.input), this.status);
    const signal = state.signal;
    this.input.addEventListener(
      'input',
      () => {
        // A text filter over 100 k events takes a few tens of ms: wait for a pause in the typing.
        this.cancelPending();
        this.timer = setTimeout(() => {
          this.timer = null;
          this.apply(this.input.value);
        }, FILTER_DEBOUNCE_MS);
      },
      { signal },
    );
    this.input.addEventListener('keydown', (ev) => this.onKey(ev), { signal });
    state.onFilter(() => this.showStatus());
  }

  private onKey(ev: KeyboardEvent): void {
    if (ev.key === 'Enter') {
      this.cancelPending();
      this.apply(this.input.value);
    } else if (ev.key === 'Escape' && this.input.value !== '') {
      // Escape clears the filter first; only an empty filter lets it close the viewer.
      ev.preventDefault();
      ev.stopPropagation();
      this.input.value = '';
      this.apply('');
    }
  }

  /** Applies `text`; `fromUrl`: it came from the URL hash (which then needs no update). */
  apply(text: string, fromUrl = false): void {
    if (fromUrl) this.input.value = text;
    const parsed = parseFilter(text);
    this.state.setFilter(parsed.filter, parsed.problems);
    if (!fromUrl) this.state.ctx.onFilter(text.trim());
  }

  private showStatus(): void {
    const { mask, n, model, filterProblems } = this.state;
    this.status.replaceChildren(
      mask === null
        ? 'no filter: everything shows'
        : `${mask.matching.length} of ${n} events, ${mask.matchingArrows} of ${model.arrowTo.length} deliveries match`,
      ...filterProblems.map((x) => h('span', { class: 'problem' }, ` · ${x}`)),
    );
    this.status.dataset.matching = String(mask?.matching.length ?? n);
  }

  cancelPending(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
