/** The reactor stack's "sometimes" conditions: each should happen in some run of the properties naming it. */
import type { SometimesDef } from '../stack.js';
import type { ReactorObservations, ServerConnObs } from './observations.js';

const conns = (o: ReactorObservations): ServerConnObs[] => Object.values(o.servers).flatMap((x) => x.conns);

export const REACTOR_SOMETIMES: readonly SometimesDef<ReactorObservations>[] = [
  {
    id: 'reactor.spin-closed',
    text: 'a connection was closed for handler spin',
    seen: (r) => conns(r.observations).some((k) => k.closeReason === 'handler-spin'),
  },
  {
    id: 'reactor.send-then-close',
    text: 'a client closed right after sending and its server connection still consumed input',
    seen: (r) => Object.values(r.observations.clients).some((c) => c.ended === 'close' && c.sentBytes > 0),
  },
  {
    id: 'reactor.write-interest',
    text: 'a flush left bytes unsent (a short write): the loop watched for writability',
    seen: (r) => conns(r.observations).some((k) => k.shortWrites > 0),
  },
  {
    id: 'reactor.write-timeout',
    text: 'a flush failed with a write timeout',
    seen: (r) => conns(r.observations).some((k) => k.waits.some((w) => w.outcome === 'ErrWriteTimeout')),
  },
  {
    id: 'reactor.idle-closed',
    text: 'a connection was closed for idleness',
    seen: (r) => conns(r.observations).some((k) => k.closeReason === 'idle-timeout'),
  },
  {
    id: 'reactor.read-timed-out',
    text: 'a blocking read timed out',
    seen: (r) => conns(r.observations).some((k) => k.waits.some((w) => w.outcome === 'ErrReadTimeout')),
  },
  {
    id: 'reactor.read-paused',
    text: 'reading was paused at the input high-water mark',
    seen: (r) => conns(r.observations).some((k) => k.readPauses > 0),
  },
  {
    id: 'reactor.peer-blocked',
    text: "a client's writes waited for the transport (its sender blocked)",
    seen: (r) => Object.values(r.observations.clients).some((c) => c.blockedWrites > 0),
  },
  {
    id: 'reactor.loops-busy',
    text: 'a loop was charged CPU time',
    seen: (r) => Object.values(r.observations.servers).some((x) => x.charges.length > 0),
  },
];
