/**
 * A synthetic trace of any length for the viewer's tests: three clients talking to a server over
 * one connection each, every write delivered in one or two chunks after a latency, a request/reply
 * message pair per exchange, timers, and a partition every 10 000 events. Deterministic (no RNG):
 * the same length gives the same trace.
 */
import { toJsonLines, TRACE_SCHEMA, type TraceEvent, type TraceInput } from '../../sim/trace.js';

export const SYNTHETIC_HOSTS = ['client0', 'client1', 'client2', 'server'] as const;

export function syntheticTrace(eventCount: number): TraceEvent[] {
  const out: TraceEvent[] = [];
  let tUs = 0;
  const push = (e: TraceInput): void => {
    if (out.length < eventCount) out.push({ ...e, seq: out.length, tUs });
  };
  const offsets = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    push({
      kind: 'connect',
      host: `client${c}`,
      conn: c + 1,
      from: `tcp://client${c}:49152`,
      to: 'tcp://server:5555',
    });
    push({
      kind: 'accept',
      host: 'server',
      conn: c + 1,
      from: `tcp://client${c}:49152`,
      to: 'tcp://server:5555',
    });
  }
  let round = 0;
  let timer = 1;
  while (out.length < eventCount) {
    const c = round % 3;
    const conn = c + 1;
    const bytes = 16 + (round % 7) * 8;
    const id = 0x80000000 + round;
    if (round % 1000 === 999)
      push({ kind: 'fault-start', fault: 'partition', id: round, detail: 'client0|server' });
    push({ kind: 'timer-set', host: `client${c}`, timer, delayUs: 5000, label: 'resend' });
    push({ kind: 'write', host: `client${c}`, conn, offered: bytes, accepted: bytes });
    push({
      kind: 'msg-send',
      host: `client${c}`,
      proto: 'req0',
      msg: 'request',
      bytes,
      fields: [{ name: 'request-id', offset: 0, length: 4, value: id }],
      corr: id,
    });
    tUs += 100 + (round % 5) * 40;
    const split = round % 4 === 0;
    const first = split ? bytes / 2 : bytes;
    push({ kind: 'chunk', host: 'server', conn, dir: 'c>s', bytes: first, offset: offsets[c]! });
    if (split) {
      tUs += 30;
      push({
        kind: 'chunk',
        host: 'server',
        conn,
        dir: 'c>s',
        bytes: bytes - first,
        offset: offsets[c]! + first,
      });
    }
    offsets[c]! += bytes;
    push({ kind: 'read', host: 'server', conn, bytes });
    push({
      kind: 'msg-recv',
      host: `client${c}`,
      proto: 'req0',
      msg: 'reply',
      bytes,
      fields: [{ name: 'request-id', offset: 0, length: 4, value: id }],
      corr: id,
      answer: true,
    });
    push({ kind: 'timer-clear', host: `client${c}`, timer, label: 'resend' });
    if (round % 1000 === 999) push({ kind: 'fault-end', fault: 'partition', id: round });
    timer++;
    round++;
    tUs += 50;
  }
  return out;
}

export function syntheticTraceText(eventCount: number): string {
  return toJsonLines(
    { schema: TRACE_SCHEMA, seed: 'synthetic', source: `synthetic ${eventCount}` },
    syntheticTrace(eventCount),
  );
}
