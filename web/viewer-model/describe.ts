/** One-line description of an event (the event list, the diagram's comment column, the text filter). */
import type { MessageRefs, TraceEvent } from '../../sim/trace.js';

/** The ids of a message, as words the text filter finds (`session=pipe/7`, `corr=42`...). */
function messageRefs(e: MessageRefs): string {
  let out = '';
  if (e.session !== undefined) out += ` session=${e.session}`;
  if (e.stream !== undefined) out += ` stream=${e.stream}`;
  if (e.corr !== undefined) out += ` corr=${e.corr}${e.answer === true ? ' (answer)' : ''}`;
  if (e.handoff !== undefined) out += ` handoff=${e.handoff}`;
  return out;
}

export function describeEvent(e: TraceEvent): string {
  const conn = e.conn !== undefined ? ` conn ${e.conn}` : '';
  switch (e.kind) {
    case 'write':
      return `write${conn} ${e.accepted}/${e.offered} B`;
    case 'chunk':
      return `chunk${conn} ${e.dir} ${e.bytes} B @${e.offset}`;
    case 'read':
      return `read${conn} ${e.bytes} B`;
    case 'loss':
      return `loss${conn} ${e.dir} ${e.bytes} B ×${e.retransmits} +${e.delayUs} µs`;
    case 'timer-set':
      return `timer-set #${e.timer} ${e.label ?? ''} +${e.delayUs} µs`;
    case 'timer-fire':
    case 'timer-clear':
      return `${e.kind} #${e.timer} ${e.label ?? ''}`;
    case 'listen':
      return `listen ${e.addr}`;
    case 'connect':
    case 'accept':
      return `${e.kind}${conn} ${e.from} → ${e.to}`;
    case 'connect-error':
      return `connect-error ${e.to} ${e.code}`;
    case 'close':
      return `close${conn} ${e.side}${e.reason !== undefined ? ` (${e.reason})` : ''}`;
    case 'reset':
      return `reset${conn} ${e.reason}, ${e.lostBytes} B lost`;
    case 'fault-start':
      return `fault-start ${e.fault} #${e.id}${e.detail !== undefined ? ` ${e.detail}` : ''}`;
    case 'fault-end':
      return `fault-end ${e.fault} #${e.id}`;
    case 'host':
      return `host ${e.state}`;
    case 'msg-send':
    case 'msg-recv':
      return `${e.kind}${conn} ${e.proto} ${e.msg} ${e.bytes} B ${(e.fields ?? []).map((f) => `${f.name}=${String(f.value)}`).join(' ')}${messageRefs(e)}`;
    case 'session-open':
      return `session-open${conn} ${e.session} ${e.type}${e.proto !== undefined ? ` ${e.proto}` : ''} peer ${e.peer}`;
    case 'session-close':
      return `session-close${conn} ${e.session}${e.reason !== undefined ? ` (${e.reason})` : ''}`;
    case 'queue-depth':
      return `queue ${e.queue} = ${e.depth}`;
    case 'note':
      return e.text;
    case 'error':
      return `error ${e.code}: ${e.message}`;
    default:
      return (e as { kind: string }).kind;
  }
}
