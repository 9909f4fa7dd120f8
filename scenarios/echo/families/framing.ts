/**
 * The echo-framing family: whatever the chunking, partial writes, stalls, pauses and partitions
 * (faults that delay bytes but never destroy them), every echo comes back intact and in order, no
 * side ever reports a protocol error, every buffer stays within its bound, and every session or
 * request completes. Caught here: a server that drops the unwritten tail of a short write
 * (museum/echo-drop-partial-write), a decoder that misreads a header split across reads
 * (museum/echo-split-header).
 */
import type { FamilySpec, PropertySpec } from '../../catalog.js';
import type { GeneratedFaultKind } from '../../generators.js';
import { echoScenarioArb, ECHO_TRANSPORTS } from '../generators.js';
import type { EchoScenario } from '../model.js';

/** Faults that delay or split the byte stream but never destroy it. */
const NON_LOSSY: readonly GeneratedFaultKind[] = ['partition', 'stall-reads', 'pause', 'link'];

const SAFETY = [
  'stack.no-crash',
  'echo.replies-intact-in-order',
  'echo.no-protocol-error',
  'echo.bounded-memory',
];

export const FRAMING_SESSIONS: PropertySpec<EchoScenario> = {
  id: 'echo-framing/sessions',
  family: 'echo-framing',
  title:
    'echo sessions under chunking, partial writes, stalls and partitions: every echo intact, every session complete',
  protocols: ['echo'],
  transports: ECHO_TRANSPORTS,
  checks: [...SAFETY, 'echo.sessions-complete', 'echo.sessions-fail-typed'],
  faultKinds: NON_LOSSY,
  sometimes: [
    'net.partial-write',
    'net.retransmission',
    'echo.split-header',
    'echo.zero-length',
    'echo.backpressure',
  ],
  arb: ({ impl, transports }) =>
    echoScenarioArb({
      impl,
      transports,
      mode: 'sessions',
      name: 'echo-framing-sessions',
      checks: FRAMING_SESSIONS.checks,
      faultKinds: NON_LOSSY,
    }),
};

export const FRAMING_REQUESTS: PropertySpec<EchoScenario> = {
  id: 'echo-framing/requests',
  family: 'echo-framing',
  title:
    'pipelined echo requests under chunking, partial writes, stalls and partitions: every answer intact, in order',
  protocols: ['echo'],
  transports: ECHO_TRANSPORTS,
  checks: [...SAFETY, 'echo.all-answered'],
  faultKinds: NON_LOSSY,
  sometimes: ['net.partial-write', 'echo.split-header', 'echo.backpressure'],
  arb: ({ impl, transports }) =>
    echoScenarioArb({
      impl,
      transports,
      mode: 'requests',
      name: 'echo-framing-requests',
      checks: FRAMING_REQUESTS.checks,
      faultKinds: NON_LOSSY,
    }),
};

export const ECHO_FRAMING: FamilySpec<EchoScenario> = {
  name: 'echo-framing',
  title: 'echo framing: length-prefixed frames survive any segmentation, short writes and stalls',
  properties: [FRAMING_SESSIONS, FRAMING_REQUESTS],
};
