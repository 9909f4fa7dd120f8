/**
 * The echo-reqrep family: requests and replies matched under faults that destroy data in flight
 * (connection resets, a crash and restart of the server host) as well as partitions, stalls and
 * pauses. A requester reconnects with a bounded backoff and resends every unanswered request, so
 * every request is answered once faults heal, each answer once and in order; a session cut short
 * fails with a network error, never quietly. Caught here: a requester that does not resend what it
 * had sent before the connection was lost (museum/echo-no-resend).
 */
import type { FamilySpec, PropertySpec } from '../../catalog.js';
import type { GeneratedFaultKind } from '../../generators.js';
import { echoScenarioArb, ECHO_TRANSPORTS } from '../generators.js';
import type { EchoScenario } from '../model.js';

const LOSSY: readonly GeneratedFaultKind[] = ['reset', 'crash', 'partition', 'stall-reads', 'pause'];
/** Spread the messages over the fault phase, so faults catch requests in flight. */
const MAX_GAP_US = 250_000;

export const REQREP_RESETS: PropertySpec<EchoScenario> = {
  id: 'echo-reqrep/resets',
  family: 'echo-reqrep',
  title:
    'echo requests under resets and a server crash: every request answered once, in order, after reconnects',
  protocols: ['echo'],
  transports: ECHO_TRANSPORTS,
  checks: [
    'stack.no-crash',
    'echo.replies-intact-in-order',
    'echo.no-protocol-error',
    'echo.bounded-memory',
    'echo.all-answered',
    'echo.reconnect-backoff',
  ],
  faultKinds: LOSSY,
  sometimes: ['net.reset', 'echo.reconnect', 'echo.resend'],
  arb: ({ impl, transports }) =>
    echoScenarioArb({
      impl,
      transports,
      mode: 'requests',
      name: 'echo-reqrep-resets',
      checks: REQREP_RESETS.checks,
      faultKinds: LOSSY,
      maxClients: 3,
      maxGapUs: MAX_GAP_US,
      serverCrashes: true,
    }),
};

export const REQREP_SESSIONS: PropertySpec<EchoScenario> = {
  id: 'echo-reqrep/sessions',
  family: 'echo-reqrep',
  title:
    'echo sessions under resets and a server crash: echoes intact, a session cut short fails with a network error',
  protocols: ['echo'],
  transports: ECHO_TRANSPORTS,
  checks: [
    'stack.no-crash',
    'echo.replies-intact-in-order',
    'echo.no-protocol-error',
    'echo.bounded-memory',
    'echo.sessions-fail-typed',
  ],
  faultKinds: LOSSY,
  sometimes: ['net.reset', 'echo.session-failed'],
  arb: ({ impl, transports }) =>
    echoScenarioArb({
      impl,
      transports,
      mode: 'sessions',
      name: 'echo-reqrep-sessions',
      checks: REQREP_SESSIONS.checks,
      faultKinds: LOSSY,
      maxClients: 2,
      maxGapUs: MAX_GAP_US,
      serverCrashes: true,
    }),
};

export const ECHO_REQREP: FamilySpec<EchoScenario> = {
  name: 'echo-reqrep',
  title: 'echo request/response: every request answered once, in order, across resets and restarts',
  properties: [REQREP_RESETS, REQREP_SESSIONS],
};
