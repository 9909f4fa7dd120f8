/**
 * The filter across the viewer's panes: `host:NAME conn:ID words` (the `&filter=` of the URL hash).
 * What it selects is shown in full; the rest is dimmed in the diagram, skipped by stepping and the
 * event list, and left out of the charts.
 */
import { describeEvent } from './describe.js';
import { INPROC_CONN, type DiagramModel } from './diagram.js';
import { lowerBound } from './layout.js';

/**
 * What the viewer shows in full; the rest is dimmed in the diagram, skipped by stepping and the
 * event list, and left out of the charts. Terms of one key are alternatives, different keys must
 * all hold, every word must appear (as the report's query bar).
 */
export interface ViewerFilter {
  /** `host:NAME`: events on any of these hosts; arrows from or to any of them. */
  hosts: string[];
  /** `conn:ID` (`conn:inproc` for inproc messages): events and arrows of any of these connections. */
  conns: number[];
  /** Any other term, lower-cased: each must appear in an event's host and description (kind, message, fields). */
  words: string[];
}

export const EMPTY_FILTER: ViewerFilter = { hosts: [], conns: [], words: [] };

/** Parses the filter text; a bad term is reported and left out, the others still apply. */
export function parseFilter(text: string): { filter: ViewerFilter; problems: string[] } {
  const filter: ViewerFilter = { hosts: [], conns: [], words: [] };
  const problems: string[] = [];
  for (const term of text.split(/\s+/)) {
    if (term === '') continue;
    const m = /^(host|conn):(.*)$/i.exec(term);
    if (m === null) {
      filter.words.push(term.toLowerCase());
      continue;
    }
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (key === 'host') {
      if (value === '') problems.push('host: needs a host name (host:server)');
      else if (!filter.hosts.includes(value)) filter.hosts.push(value);
    } else if (value.toLowerCase() === 'inproc') {
      if (!filter.conns.includes(INPROC_CONN)) filter.conns.push(INPROC_CONN);
    } else if (/^\d{1,9}$/.test(value)) {
      const id = Number(value);
      if (!filter.conns.includes(id)) filter.conns.push(id);
    } else problems.push(`conn:${value} is not a connection id (a number, or inproc)`);
  }
  return { filter, problems };
}

/** The canonical text of a filter (parseFilter reads it back to the same filter). */
export function formatFilter(f: ViewerFilter): string {
  return [
    ...f.hosts.map((x) => `host:${x}`),
    ...f.conns.map((c) => `conn:${c === INPROC_CONN ? 'inproc' : c}`),
    ...f.words,
  ].join(' ');
}

export function isEmptyFilter(f: ViewerFilter): boolean {
  return f.hosts.length === 0 && f.conns.length === 0 && f.words.length === 0;
}

/** What a filter selects in one model. */
export interface FilterMask {
  /** Per event: 1 when it matches. */
  events: Uint8Array;
  /** The matching events' indices, ascending (stepping and the event list walk them). */
  matching: Int32Array;
  /** Per arrow: 1 when it matches. */
  arrows: Uint8Array;
  matchingArrows: number;
  /** Per glyph (model.glyphs order): 1 when it matches. */
  glyphs: Uint8Array;
  /** Terms that select nothing because the trace has no such host or connection. */
  problems: string[];
}

/**
 * How far (events) from an arrow's write or chunk a matching event of the same host and instant
 * makes the arrow match a text filter: the stack traces the message it framed right beside the
 * write, and the message it decoded right after the chunk.
 */
export const ARROW_TEXT_CONTEXT_EVENTS = 3;

const eventTexts = new WeakMap<DiagramModel, string[]>();

/** Each event's searchable text, lower-cased: host and description (built once per model). */
function textsOf(model: DiagramModel): string[] {
  let t = eventTexts.get(model);
  if (t === undefined) {
    t = model.events.map((e) => `${e.host ?? ''} ${describeEvent(e)}`.toLowerCase());
    eventTexts.set(model, t);
  }
  return t;
}

/** The mask of a filter over a model; null for the empty filter (everything shows). */
export function filterMask(model: DiagramModel, f: ViewerFilter): FilterMask | null {
  if (isEmptyFilter(f)) return null;
  const n = model.events.length;
  const hostSet = new Set<number>();
  const problems: string[] = [];
  for (const name of f.hosts) {
    const i = model.hosts.findIndex((x) => x.name === name);
    if (i < 0) problems.push(`no host ${name} in this trace`);
    else hostSet.add(i);
  }
  const connSet = new Set(f.conns);
  for (const c of f.conns) {
    const known =
      c === INPROC_CONN ? model.arrowConn.includes(INPROC_CONN) : model.conns.some((x) => x.id === c);
    if (!known) problems.push(`no ${c === INPROC_CONN ? 'inproc message' : `conn ${c}`} in this trace`);
  }
  const hostOk = (h: number): boolean => f.hosts.length === 0 || hostSet.has(h);
  const connOk = (c: number | undefined): boolean =>
    f.conns.length === 0 || (c !== undefined && connSet.has(c));
  const texts = f.words.length === 0 ? null : textsOf(model);
  const textOk = new Uint8Array(n);
  for (let i = 0; i < n; i++)
    textOk[i] = texts === null || f.words.every((w) => texts[i]!.includes(w)) ? 1 : 0;

  const events = new Uint8Array(n);
  const matching: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = model.events[i]!;
    if (textOk[i] === 1 && hostOk(model.eventHost[i]!) && connOk(e.conn)) {
      events[i] = 1;
      matching.push(i);
    }
  }
  /** A text match at event i, or at an event of its host and instant within the context. */
  const textNear = (i: number): boolean => {
    if (texts === null) return true;
    for (let j = Math.max(0, i - ARROW_TEXT_CONTEXT_EVENTS); j <= i + ARROW_TEXT_CONTEXT_EVENTS && j < n; j++)
      if (textOk[j] === 1 && model.tUs[j] === model.tUs[i] && model.eventHost[j] === model.eventHost[i])
        return true;
    return false;
  };
  const arrows = new Uint8Array(model.arrowTo.length);
  let matchingArrows = 0;
  for (let k = 0; k < arrows.length; k++) {
    const ok =
      (hostOk(model.arrowFromHost[k]!) || hostOk(model.arrowToHost[k]!)) &&
      connOk(model.arrowConn[k]) &&
      (textNear(model.arrowFrom[k]!) || textNear(model.arrowTo[k]!));
    if (ok) {
      arrows[k] = 1;
      matchingArrows++;
    }
  }
  const glyphs = Uint8Array.from(model.glyphs, (g) => {
    const label = g.label.toLowerCase();
    return (hostOk(g.host) || hostOk(g.peer)) &&
      connOk(model.events[g.event]?.conn) &&
      (textOk[g.event] === 1 || f.words.every((w) => label.includes(w)))
      ? 1
      : 0;
  });
  return { events, matching: Int32Array.from(matching), arrows, matchingArrows, glyphs, problems };
}

/** The next (dir 1) or previous (dir -1) matching event from `from`, or -1 when there is none. */
export function stepMatching(mask: FilterMask, from: number, dir: 1 | -1): number {
  const j = lowerBound(mask.matching, dir > 0 ? from + 1 : from) + (dir > 0 ? 0 : -1);
  return mask.matching[j] ?? -1;
}
