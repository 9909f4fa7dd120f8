/**
 * The framing family: whatever the chunking, partial writes and stalls, every message arrives
 * intact, once, in order per pipe, over every transport; zero-length messages survive (sizes are
 * drawn from 0). Further properties (oversize lengths, garbage after the handshake) join here.
 */
import { DEFAULT_CHECKS, scenarioArb, TRANSPORTS } from '../generators.js';
import type { FamilySpec, PropertySpec } from '../catalog.js';

const ALL_FAULTS = ['partition', 'stall-reads', 'pause', 'reset', 'crash', 'link'] as const;

export const FRAMING_PROPERTIES: PropertySpec[] = [
  {
    id: 'framing/pair0',
    family: 'framing',
    title: 'PAIR0 delivers every message intact, once and in order under chunking, partial writes and faults',
    protocols: ['pair0'],
    transports: TRANSPORTS,
    checks: DEFAULT_CHECKS.pair0,
    faultKinds: ALL_FAULTS,
    sometimes: ['net.partial-write', 'net.retransmission', 'net.reset', 'sp.reconnect'],
    arb: ({ impl, transports }) =>
      scenarioArb({ protocol: 'pair0', impl, transports, name: 'framing/pair0' }),
  },
  {
    id: 'framing/reqrep',
    family: 'framing',
    title: 'REQ/REP carry requests and replies intact under chunking, partial writes and faults',
    protocols: ['req0', 'rep0'],
    transports: TRANSPORTS,
    checks: DEFAULT_CHECKS.reqrep,
    faultKinds: ALL_FAULTS,
    sometimes: ['net.partial-write', 'net.retransmission', 'net.reset', 'sp.reconnect', 'sp.resend'],
    arb: ({ impl, transports }) =>
      scenarioArb({
        protocol: 'reqrep',
        impl,
        transports,
        maxClients: 3,
        name: 'framing/reqrep',
        // A short RETRY-TIME would make resends dominate; framing is about bytes (resend has its own family).
        clientOptions: { 'RETRY-TIME': 1_000_000 },
      }),
  },
];

export const FRAMING: FamilySpec = {
  name: 'framing',
  title: 'framing: messages arrive intact, once, in order, whatever the bytes do',
  properties: FRAMING_PROPERTIES,
};
