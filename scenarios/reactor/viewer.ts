/**
 * What the scenario viewer needs to know of the reactor. It sends no framed messages of its own
 * (`proto` "reactor" decodes as plain byte counts); what the charts show comes from the trace notes
 * a connection emits (impl/reactor/connection.ts trace(): "reactor open: loop N", "reactor
 * write-interest: N bytes unsent", "reactor read-pause/read-resume: N bytes held", "reactor request:
 * N us", "reactor close: REASON") and the queue-depth samples it emits when its levels change
 * (`reactor in:<conn>` input held, `reactor out:<conn>` output committed and unsent, `reactor
 * interest:<conn>` 1 while write interest is held). `reactorConnectionViews` folds them into one
 * view per connection.
 */
import type { TraceEvent } from '../../sim/trace.js';
import type { DecodedField, MessageDecoder, ViewerSpan } from '../stack.js';

export const reactorViewerDecoder: MessageDecoder = {
  stack: 'reactor',
  protos: ['reactor'],
  decode(event) {
    const fields: DecodedField[] = event.fields.map((f) => ({ ...f }));
    return { fields, bytesNote: 'reactor byte streams carry no framing; the trace records sizes, not bytes' };
  },
  spans: reactorRequestSpans,
};

/**
 * onRequest invocations as diagram spans: from a connection's "reactor request-start" note to its
 * next "reactor request" note (per host and connection: ids are per runtime), labelled with the
 * connection, its loop and the invocation's duration. One still running at the end of the trace is
 * left out.
 */
export function reactorRequestSpans(events: readonly TraceEvent[]): ViewerSpan[] {
  const spans: ViewerSpan[] = [];
  const started = new Map<string, number>();
  const loops = new Map<string, string>();
  events.forEach((e, i) => {
    if (e.kind !== 'note' || e.conn === undefined || !e.text.startsWith('reactor ')) return;
    const key = `${e.host ?? ''}#${e.conn}`;
    const text = e.text.slice('reactor '.length);
    let m: RegExpExecArray | null;
    if ((m = /^open: loop (\d+)/.exec(text)) !== null) loops.set(key, m[1]!);
    else if (text.startsWith('request-start:')) started.set(key, i);
    else if ((m = /^request: (\d+) us/.exec(text)) !== null) {
      const start = started.get(key);
      if (start === undefined) return;
      started.delete(key);
      const loop = loops.get(key);
      spans.push({
        startEvent: start,
        endEvent: i,
        label: `onRequest conn ${e.conn}${loop === undefined ? '' : ` loop ${loop}`} (${m[1]} µs)`,
      });
    }
  });
  return spans;
}

/** One connection as the viewer's charts show it. */
export interface ReactorConnectionView {
  conn: number;
  loop: number | null;
  /** Input held, at each change: [tUs, bytes]. */
  input: [number, number][];
  /** Output committed and unsent, at each change: [tUs, bytes]. */
  output: [number, number][];
  writeInterestRegistrations: number;
  readPauses: number;
  /** onRequest spans: [endUs - duration, endUs]. */
  requests: [number, number][];
  closeReason: string | null;
}

/** Folds a trace into one view per reactor connection, in order of first appearance. */
export function reactorConnectionViews(events: readonly TraceEvent[]): ReactorConnectionView[] {
  const views = new Map<number, ReactorConnectionView>();
  const view = (conn: number): ReactorConnectionView => {
    let v = views.get(conn);
    if (v === undefined) {
      v = {
        conn,
        loop: null,
        input: [],
        output: [],
        writeInterestRegistrations: 0,
        readPauses: 0,
        requests: [],
        closeReason: null,
      };
      views.set(conn, v);
    }
    return v;
  };
  for (const e of events) {
    if (e.kind === 'queue-depth') {
      const m = /^reactor (in|out):(\d+)$/.exec(e.queue);
      if (m === null) continue;
      const v = view(Number(m[2]));
      (m[1] === 'in' ? v.input : v.output).push([e.tUs, e.depth]);
      continue;
    }
    if (e.kind !== 'note' || e.conn === undefined || !e.text.startsWith('reactor ')) continue;
    const v = view(e.conn);
    const text = e.text.slice('reactor '.length);
    let m: RegExpExecArray | null;
    if ((m = /^open: loop (\d+)/.exec(text)) !== null) v.loop = Number(m[1]);
    else if (text.startsWith('write-interest:')) v.writeInterestRegistrations++;
    else if (text.startsWith('read-pause:')) v.readPauses++;
    else if ((m = /^request: (\d+) us/.exec(text)) !== null) v.requests.push([e.tUs - Number(m[1]), e.tUs]);
    else if ((m = /^close: ([a-z-]+)/.exec(text)) !== null) v.closeReason = m[1]!;
  }
  return [...views.values()];
}
