/**
 * The scrubber: a slider over the events, steps to the previous and next (matching) event and
 * message, playback in virtual time (×1, ×10, ×100), and the cursor's moment in words.
 */
import { h } from '../dom.js';
import { formatUs } from '../model.js';
import { eventAtTime } from '../viewer-model.js';
import type { ViewerState } from './shared.js';

export class Scrubber {
  readonly element: HTMLElement;
  private readonly slider: HTMLInputElement;
  private readonly moment = h('span', { class: 'moment', 'data-field': 'moment' });
  private readonly play = h('button', { type: 'button', class: 'play' }, '► Play');
  private readonly speed = h(
    'select',
    { class: 'speed', 'aria-label': 'Playback speed' },
    h('option', { value: '1' }, '×1'),
    h('option', { value: '10' }, '×10'),
    h('option', { value: '100' }, '×100'),
  );
  private playing: { rate: number; tUs: number; lastMs: number } | null = null;

  constructor(private readonly state: ViewerState) {
    const signal = state.signal;
    this.slider = h('input', {
      type: 'range',
      class: 'scrub',
      min: 0,
      max: state.n - 1,
      value: state.cursor,
      'aria-label': 'Event (scrubber)',
    });
    const button = (cls: string, title: string, text: string, fn: () => void): HTMLButtonElement => {
      const b = h('button', { type: 'button', class: cls, title }, text);
      b.addEventListener('click', fn, { signal });
      return b;
    };
    this.element = h(
      'div',
      { class: 'scrubber' },
      button('step-back', 'Previous (matching) event (←)', '◀', () => state.stepEvent(-1)),
      this.slider,
      button('step-fwd', 'Next (matching) event (→)', '▶', () => state.stepEvent(1)),
      this.play,
      this.speed,
      button('msg-prev', 'Previous message (p)', '◀ msg', () => state.stepMessage(-1)),
      button('msg-next', 'Next message (n)', 'msg ▶', () => state.stepMessage(1)),
      this.moment,
      h(
        'span',
        { class: 'muted' },
        ' keys: ← → step (to matching events when filtered), ↑ ↓ pan, + − zoom, n p messages, space play',
      ),
    );
    this.slider.addEventListener('input', () => state.setCursor(Number(this.slider.value)), { signal });
    this.play.addEventListener('click', () => this.togglePlay(), { signal });
    this.speed.addEventListener(
      'change',
      () => {
        if (this.playing !== null) this.playing.rate = Number(this.speed.value);
      },
      { signal },
    );
    state.onCursor((opts) => {
      if (opts.fromPlay !== true) this.stop();
      this.show();
    });
  }

  private show(): void {
    const { cursor, n } = this.state;
    const e = this.state.events[cursor]!;
    this.slider.value = String(cursor);
    this.moment.textContent = `event #${e.seq} of ${n} · t = ${formatUs(e.tUs)} (${e.tUs} µs) · ${e.host ?? '·'} ${e.kind}`;
  }

  /** Starts playback from the cursor (from the start when at the end), or stops it. */
  togglePlay(): void {
    if (this.playing !== null) return this.stop();
    const state = this.state;
    if (state.cursor >= state.n - 1) state.setCursor(0);
    this.playing = {
      rate: Number(this.speed.value),
      tUs: state.events[state.cursor]!.tUs,
      lastMs: performance.now(),
    };
    this.play.textContent = '❚❚ Pause';
    requestAnimationFrame((t) => this.tick(t));
  }

  stop(): void {
    if (this.playing === null) return;
    this.playing = null;
    this.play.textContent = '► Play';
  }

  private tick(nowMs: number): void {
    const state = this.state;
    const playing = this.playing;
    if (playing === null || state.signal.aborted) return;
    const dt = nowMs - playing.lastMs;
    playing.lastMs = nowMs;
    playing.tUs += dt * 1000 * playing.rate;
    const target = eventAtTime(state.model, playing.tUs);
    if (target !== state.cursor) state.setCursor(target, { fromPlay: true });
    if (state.cursor >= state.n - 1) {
      this.stop();
      return;
    }
    requestAnimationFrame((t) => this.tick(t));
  }
}
