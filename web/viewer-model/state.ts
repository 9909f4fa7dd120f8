/**
 * Per-host state at an event, for the state table beside the diagram: status, open connections,
 * open sessions, open exchanges (by correlation id), pending timers, queue depths and bytes. Read
 * from typed trace fields only (session-open/close, a message's `corr` and `answer`), so it holds
 * for every stack.
 */
import type { TraceEvent } from '../../sim/trace.js';
import type { DiagramModel } from './diagram.js';

/** An exchange a host is in the middle of: opened by a message with a `corr`, closed by its answer. */
export interface OpenExchange {
  /** The event that opened it. */
  event: number;
  /** How the state table shows it: the correlation id, and "(to answer)" when the host owes the answer. */
  label: string;
}

export interface HostState {
  status: 'up' | 'paused' | 'crashed';
  /** Open connections (connect/accept until close or reset). */
  conns: Set<number>;
  /** Open sessions (session-open until session-close): their ids. */
  sessions: Set<string>;
  /**
   * Open exchanges, by direction and correlation id: a request sent and not yet answered (a msg-send
   * with `corr` and no `answer`, until a msg-recv answering it), or received and not yet answered
   * (a msg-recv with `corr`, until a msg-send answering it).
   */
  outstanding: Map<string, OpenExchange>;
  /** Pending timers: id -> label. */
  timers: Map<number, string>;
  /** Latest sample of each queue's depth. */
  queues: Map<string, number>;
  /** Bytes written (accepted) and read, totals. */
  bytesOut: number;
  bytesIn: number;
}

function emptyHostState(): HostState {
  return {
    status: 'up',
    conns: new Set(),
    sessions: new Set(),
    outstanding: new Map(),
    timers: new Map(),
    queues: new Map(),
    bytesOut: 0,
    bytesIn: 0,
  };
}

function cloneHostState(s: HostState): HostState {
  return {
    status: s.status,
    conns: new Set(s.conns),
    sessions: new Set(s.sessions),
    outstanding: new Map(s.outstanding),
    timers: new Map(s.timers),
    queues: new Map(s.queues),
    bytesOut: s.bytesOut,
    bytesIn: s.bytesIn,
  };
}

/**
 * A message's effect on the host's open exchanges. Keys say who asked: an answer this host sends
 * closes what it received, an answer it receives closes what it sent (so a REQ and a REP on one
 * host, which see one request id from both sides, keep their exchanges apart).
 */
function applyMessage(
  s: HostState,
  e: Extract<TraceEvent, { kind: 'msg-send' | 'msg-recv' }>,
  index: number,
): void {
  if (e.corr === undefined) return;
  const sent = e.kind === 'msg-send';
  const id = String(e.corr);
  if (e.answer === true) {
    s.outstanding.delete(`${sent ? 'in' : 'out'}:${id}`);
    return;
  }
  const key = `${sent ? 'out' : 'in'}:${id}`;
  // A resend of an open request keeps the exchange's first event.
  if (!s.outstanding.has(key))
    s.outstanding.set(key, { event: index, label: sent ? id : `${id} (to answer)` });
}

function applyEvent(states: HostState[], hostIdx: number, e: TraceEvent, index: number): void {
  const s = states[hostIdx];
  if (s === undefined) return;
  switch (e.kind) {
    case 'connect':
    case 'accept':
      if (e.conn !== undefined) s.conns.add(e.conn);
      break;
    case 'close':
      if (e.side === 'local' && e.conn !== undefined) s.conns.delete(e.conn);
      break;
    case 'reset':
      if (e.conn !== undefined) s.conns.delete(e.conn);
      break;
    case 'timer-set':
      s.timers.set(e.timer, e.label ?? 'timer');
      break;
    case 'timer-fire':
    case 'timer-clear':
      s.timers.delete(e.timer);
      break;
    case 'session-open':
      s.sessions.add(e.session);
      break;
    case 'session-close':
      s.sessions.delete(e.session);
      break;
    case 'msg-send':
    case 'msg-recv':
      applyMessage(s, e, index);
      break;
    case 'queue-depth':
      s.queues.set(e.queue, e.depth);
      break;
    case 'write':
      s.bytesOut += e.accepted;
      break;
    case 'read':
      s.bytesIn += e.bytes;
      break;
    case 'host':
      s.status = e.state === 'paused' ? 'paused' : e.state === 'crashed' ? 'crashed' : 'up';
      if (e.state === 'crashed') {
        s.conns.clear();
        s.sessions.clear();
        s.timers.clear();
        s.outstanding.clear();
      }
      break;
    default:
      break;
  }
}
/** Events between saved states: bounds the replay to answer stateAt (memory: n / this states). */
export const STATE_CHECKPOINT_EVERY = 2048;

/** Answers "what was each host's state just after event i" by replay from the nearest checkpoint. */
export class StateIndex {
  private readonly checkpoints: HostState[][] = [];

  constructor(private readonly model: DiagramModel) {
    const states = model.hosts.map(emptyHostState);
    for (let i = 0; i < model.events.length; i++) {
      if (i % STATE_CHECKPOINT_EVERY === 0) this.checkpoints.push(states.map(cloneHostState));
      applyEvent(states, model.eventHost[i]!, model.events[i]!, i);
    }
  }

  /** Host states after event `index` has happened (index -1: before any event). */
  stateAt(index: number): HostState[] {
    const n = this.model.events.length;
    const upto = Math.min(index, n - 1);
    if (upto < 0) return this.model.hosts.map(emptyHostState);
    const k = Math.floor(upto / STATE_CHECKPOINT_EVERY);
    const states = this.checkpoints[k]!.map(cloneHostState);
    for (let i = k * STATE_CHECKPOINT_EVERY; i <= upto; i++)
      applyEvent(states, this.model.eventHost[i]!, this.model.events[i]!, i);
    return states;
  }
}

/** One row of the state table: the host, and its values as display text per column. */
export interface StateRow {
  host: string;
  cells: Record<StateColumn, string>;
}

export const STATE_COLUMNS = [
  'status',
  'conns',
  'sessions',
  'outstanding',
  'timers',
  'queues',
  'bytes',
] as const;
export type StateColumn = (typeof STATE_COLUMNS)[number];

function list(values: Iterable<string | number>, max = 4): string {
  const all = [...values].map(String);
  if (all.length === 0) return '–';
  return `${all.length}: ${all.slice(0, max).join(', ')}${all.length > max ? ', …' : ''}`;
}

export function stateRows(model: DiagramModel, states: readonly HostState[]): StateRow[] {
  return model.hosts.map((h, i) => {
    const s = states[i] ?? emptyHostState();
    return {
      host: h.name,
      cells: {
        status: s.status,
        conns: list(s.conns),
        sessions: list(s.sessions, 2),
        outstanding: list(
          [...s.outstanding.values()].map((x) => x.label),
          3,
        ),
        timers: list(s.timers.values(), 3),
        queues: s.queues.size === 0 ? '–' : [...s.queues].map(([q, d]) => `${q}=${d}`).join(', '),
        bytes: `${s.bytesOut} out / ${s.bytesIn} in`,
      },
    };
  });
}

/** The cells that differ between two state tables (same hosts): "host/column" keys. */
export function changedCells(before: readonly StateRow[], after: readonly StateRow[]): Set<string> {
  const out = new Set<string>();
  after.forEach((row, i) => {
    const prev = before[i];
    for (const c of STATE_COLUMNS)
      if (prev === undefined || prev.cells[c] !== row.cells[c]) out.add(`${row.host}/${c}`);
  });
  return out;
}
