/** Chrome Trace Event export of a diagram model (opens in Perfetto and chrome://tracing). */
import type { TraceEvent } from '../../sim/trace.js';
import type { DiagramModel } from './diagram.js';

export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'i' | 'M';
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  s?: 't' | 'p' | 'g';
  cat?: string;
  args?: Record<string, unknown>;
}

/** Thread ids inside each host's process: its events, its deliveries, its timers. */
const TID_EVENTS = 1;
const TID_DELIVERIES = 2;
const TID_TIMERS = 3;
/** The process of faults (not on any host). */
const PID_FAULTS = 0;

/**
 * The trace as Chrome Trace Event JSON (`{traceEvents: [...]}`; ts and dur in µs, which is the
 * format's unit): one process per host with an instant per event, each delivery as a slice on the
 * receiver from send to arrival (its length is the latency), each timer as a slice from set to
 * fire or clear, and faults as slices of a "faults" process.
 */
export function toChromeTrace(
  model: DiagramModel,
  title = 'netlab trace',
): { traceEvents: ChromeTraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, string> } {
  const out: ChromeTraceEvent[] = [];
  const pid = (h: number): number => h + 1;
  out.push({ name: 'process_name', ph: 'M', pid: PID_FAULTS, tid: 0, ts: 0, args: { name: 'faults' } });
  model.hosts.forEach((h, i) => {
    out.push({ name: 'process_name', ph: 'M', pid: pid(i), tid: 0, ts: 0, args: { name: h.name } });
    out.push({ name: 'thread_name', ph: 'M', pid: pid(i), tid: TID_EVENTS, ts: 0, args: { name: 'events' } });
    out.push({
      name: 'thread_name',
      ph: 'M',
      pid: pid(i),
      tid: TID_DELIVERIES,
      ts: 0,
      args: { name: 'deliveries' },
    });
    out.push({ name: 'thread_name', ph: 'M', pid: pid(i), tid: TID_TIMERS, ts: 0, args: { name: 'timers' } });
  });
  const timers = new Map<string, number>();
  model.events.forEach((e, i) => {
    const h = model.eventHost[i]!;
    const { seq: _seq, tUs, kind, host: _host, ...args } = e as TraceEvent & Record<string, unknown>;
    out.push({
      name: kind,
      ph: 'i',
      s: h < 0 ? 'g' : 't',
      pid: h < 0 ? PID_FAULTS : pid(h),
      tid: h < 0 ? 0 : TID_EVENTS,
      ts: tUs,
      cat: kind,
      args: { seq: e.seq, ...args },
    });
    if (h >= 0 && e.kind === 'timer-set') timers.set(`${h}#${e.timer}`, i);
    if (h >= 0 && (e.kind === 'timer-fire' || e.kind === 'timer-clear')) {
      const start = timers.get(`${h}#${e.timer}`);
      if (start !== undefined) {
        timers.delete(`${h}#${e.timer}`);
        out.push({
          name: `${e.label ?? 'timer'} (${e.kind === 'timer-fire' ? 'fired' : 'cleared'})`,
          ph: 'X',
          pid: pid(h),
          tid: TID_TIMERS,
          ts: model.tUs[start]!,
          dur: tUs - model.tUs[start]!,
          cat: 'timer',
        });
      }
    }
  });
  for (let k = 0; k < model.arrowTo.length; k++) {
    const f = model.arrowFrom[k]!;
    const t = model.arrowTo[k]!;
    out.push({
      name: `${model.arrowBytes[k]!} B from ${model.hosts[model.arrowFromHost[k]!]?.name ?? '?'}`,
      ph: 'X',
      pid: pid(model.arrowToHost[k]!),
      tid: TID_DELIVERIES,
      ts: model.tUs[f]!,
      dur: model.tUs[t]! - model.tUs[f]!,
      cat: 'delivery',
      args: {
        sentSeq: model.events[f]?.seq,
        deliveredSeq: model.events[t]?.seq,
        split: model.arrowSplit[k] === 1,
      },
    });
  }
  for (const b of model.bands) {
    out.push({
      name: b.label,
      ph: 'X',
      pid: b.host < 0 ? PID_FAULTS : pid(b.host),
      tid: b.host < 0 ? 0 : TID_EVENTS,
      ts: model.tUs[b.startEvent]!,
      dur: model.tUs[b.endEvent]! - model.tUs[b.startEvent]!,
      cat: b.kind,
    });
  }
  return { traceEvents: out, displayTimeUnit: 'ms', otherData: { source: title } };
}
