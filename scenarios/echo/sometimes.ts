/** The echo stack's "sometimes" conditions: each should happen in some run of the properties naming it. */
import type { SometimesDef } from '../stack.js';
import type { EchoObservations } from './checks.js';

export const ECHO_SOMETIMES: readonly SometimesDef<EchoObservations>[] = [
  {
    id: 'echo.split-header',
    text: 'a frame header reached a server split across two reads',
    seen: (r) => Object.values(r.observations.servers).some((s) => s.splitHeaders > 0),
  },
  {
    id: 'echo.zero-length',
    text: 'a zero-length frame was echoed',
    seen: (r) => Object.values(r.observations.servers).some((s) => s.zeroLengthFrames > 0),
  },
  {
    id: 'echo.backpressure',
    text: 'a server paused reading because too many echo bytes waited to be sent',
    seen: (r) => Object.values(r.observations.servers).some((s) => s.stats.readPauses > 0),
  },
  {
    id: 'echo.reconnect',
    text: 'a requester connected more than once (a connection was lost and redialed)',
    seen: (r) => Object.values(r.observations.clients).some((c) => c.requester.connects > 1),
  },
  {
    id: 'echo.resend',
    text: 'a requester resent a request on a new connection',
    seen: (r) => Object.values(r.observations.clients).some((c) => c.requester.resends > 0),
  },
  {
    id: 'echo.session-failed',
    text: 'a session failed with a network error (a fault cut it short)',
    seen: (r) => Object.values(r.observations.clients).some((c) => c.sessions.some((s) => s.error !== null)),
  },
];
