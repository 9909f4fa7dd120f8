/** The SP stack's "sometimes" conditions: each should happen in some run of the properties naming it. */
import type { SometimesDef } from '../stack.js';
import type { Observations } from './checks.js';

export const SP_SOMETIMES: readonly SometimesDef<Observations>[] = [
  {
    id: 'sp.reconnect',
    text: 'a dialer connected more than once (a pipe was lost and redialed)',
    seen: (r) =>
      Object.values(r.observations.sockets).some(
        (s) => s.pipes.filter((p) => p.event === 'attached').length > 1,
      ),
  },
  {
    id: 'sp.resend',
    text: 'a REQ resent a request',
    seen: (r) => Object.values(r.observations.sockets).some((s) => (s.req?.resends ?? 0) > 0),
  },
  {
    id: 'sp.queue-full',
    text: 'a send found the send queue full',
    seen: (r) =>
      Object.values(r.observations.sockets).some((s) =>
        s.sent.some((x) => x.queuedBefore > 0 && x.queuedBefore >= s.maxSendQ),
      ),
  },
  {
    id: 'sp.zero-length',
    text: 'a zero-length message was delivered',
    seen: (r) =>
      Object.values(r.observations.sockets).some((s) => s.received.some((m) => m.body.length === 0)),
  },
  {
    id: 'sp.bad-peer-cut',
    text: 'a misbehaving peer was cut off (bad handshake or bad frame)',
    seen: (r) =>
      Object.values(r.observations.sockets).some(
        (s) => s.endpoints.badHandshakes + s.endpoints.badFrames > 0,
      ),
  },
];
