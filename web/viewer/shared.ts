/**
 * The viewer's shared state: the recorded trace and its model, and what the panes agree on — the
 * cursor, the selected message, the filter and its mask, the first divergence from a rerun. Panes
 * (web/viewer/*.ts) read it and change it only through its methods, which tell the other panes.
 */
import type { TraceEvent } from '../../sim/trace.js';
import type { MessageDecoder } from '../message-decoder.js';
import type { NetlabRunner } from '../rerun-entry.js';
import {
  buildDiagram,
  EMPTY_FILTER,
  failurePin,
  filterMask,
  lowerBound,
  StateIndex,
  stepMatching,
  type DiagramModel,
  type FilterMask,
  type ViewerFilter,
} from '../viewer-model.js';

/** What the report page hands the viewer. */
export interface ViewerContext {
  caseId: string;
  title: string;
  /** The failed check, when the case failed: shown above the diagram. */
  failure: { invariant: string | null; expected: string | null; actual: string | null } | null;
  tracePath: string;
  loadTrace: () => Promise<string>;
  /** The recorded scenario and seed (the case file), when the case has a counterexample. */
  counterexample: { scenario: unknown; simSeed: string; traceHash: string | null } | null;
  loadRunner: () => Promise<NetlabRunner>;
  /** Each stack's decoder for the message pane (the page gets them from scenarios/stacks.ts VIEWER_DECODERS). */
  decoders: readonly MessageDecoder[];
  /** Initial moment (virtual µs) and message (event seq) from the URL hash. */
  tUs: number | null;
  msg: number | null;
  /** Initial filter text from the URL hash ('' for none): `host:NAME conn:ID words`. */
  filter: string;
  /** Called when the selected moment or message changes (the page keeps them in the URL hash). */
  onMoment: (tUs: number, msg: number | null) => void;
  /** Called when the filter text changes (the page keeps it in the URL hash). */
  onFilter: (text: string) => void;
  onClose: () => void;
}

export interface CursorOptions {
  /** Scroll the diagram to show the cursor (default true). */
  scroll?: boolean;
  /** The move comes from playback (which a move from anywhere else stops). */
  fromPlay?: boolean;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class ViewerState {
  readonly n: number;
  readonly model: DiagramModel;
  readonly states: StateIndex;
  readonly pin: { event: number; why: string };
  /** Message events (msg-send / msg-recv) of the recorded trace, ascending. */
  readonly messageEvents: Int32Array;
  cursor: number;
  selectedMsg: number | null = null;
  filter: ViewerFilter = EMPTY_FILTER;
  /** The filter's mask over the recorded trace (null: no filter). */
  mask: FilterMask | null = null;
  /** The filter's problems: bad terms, and terms that select nothing in this trace. */
  filterProblems: string[] = [];
  /** The first event where a rerun's trace differs from the recorded one. */
  divergence: number | null = null;
  private readonly cursorListeners: ((opts: CursorOptions) => void)[] = [];
  private readonly filterListeners: (() => void)[] = [];
  private readonly divergenceListeners: (() => void)[] = [];

  constructor(
    readonly ctx: ViewerContext,
    readonly events: TraceEvent[],
    readonly signal: AbortSignal,
  ) {
    this.n = events.length;
    this.model = buildDiagram(events, this.hostOrder(), ctx.decoders);
    this.states = new StateIndex(this.model);
    this.pin = failurePin(events);
    this.cursor = this.pin.event;
    this.messageEvents = Int32Array.from(this.model.messages);
  }

  /** The scenario's host order, so the lifelines come as the scenario lists its hosts. */
  private hostOrder(): string[] {
    const scenario = this.ctx.counterexample?.scenario;
    return isObject(scenario) && Array.isArray(scenario.hosts)
      ? scenario.hosts.filter((x): x is string => typeof x === 'string')
      : [];
  }

  onCursor(fn: (opts: CursorOptions) => void): void {
    this.cursorListeners.push(fn);
  }

  onFilter(fn: () => void): void {
    this.filterListeners.push(fn);
  }

  onDivergence(fn: () => void): void {
    this.divergenceListeners.push(fn);
  }

  setCursor(i: number, opts: CursorOptions = {}): void {
    this.cursor = Math.max(0, Math.min(this.n - 1, i));
    const e = this.events[this.cursor]!;
    if (e.kind === 'msg-send' || e.kind === 'msg-recv') this.selectedMsg = this.cursor;
    for (const fn of this.cursorListeners) fn(opts);
    this.ctx.onMoment(e.tUs, this.selectedMsg === null ? null : this.events[this.selectedMsg]!.seq);
  }

  setFilter(filter: ViewerFilter, parseProblems: string[]): void {
    this.filter = filter;
    this.mask = filterMask(this.model, filter);
    this.filterProblems = [...parseProblems, ...(this.mask?.problems ?? [])];
    for (const fn of this.filterListeners) fn();
  }

  setDivergence(div: number | null): void {
    this.divergence = div;
    for (const fn of this.divergenceListeners) fn();
  }

  /** True when event i passes the filter. */
  matches(i: number): boolean {
    return this.mask === null || this.mask.events[i] === 1;
  }

  /** One step: to the next or previous event, or matching event when a filter is on. */
  stepEvent(dir: 1 | -1): void {
    if (this.mask === null) return this.setCursor(this.cursor + dir);
    const target = stepMatching(this.mask, this.cursor, dir);
    if (target >= 0) this.setCursor(target);
  }

  /** To the next or previous (matching) message. */
  stepMessage(dir: 1 | -1): void {
    const list = this.messageEvents;
    let j = lowerBound(list, this.cursor + (dir > 0 ? 1 : 0)) + (dir > 0 ? 0 : -1);
    while (j >= 0 && j < list.length && !this.matches(list[j]!)) j += dir;
    const target = list[j];
    if (target !== undefined) this.setCursor(target);
  }
}
