/**
 * What the SP checks hold the stack to, written down here from the reference (shared/reference/sp.md
 * and netlab's documented choices in impl/sp/README.md), not imported from impl/sp/: an oracle that
 * calls the stack's own option table, validator, protocol table or prefix match agrees with the
 * stack's bug in it. A lint rule (netlab/independent-oracles) keeps the checks of scenarios/sp/ from
 * importing impl/sp/ values. Raw (x*) sockets use the ids of their cooked type.
 */
import type { OptionName, OptionValues } from '../../impl/sp/options.js';
import { SCENARIO_SOCKET_DEFAULTS } from './actors.js';
import type { SocketSpec } from './model.js';

const MS_US = 1_000;
const SECOND_US = 1_000_000;

/**
 * netlab's documented option defaults (impl/sp/README.md, "Options"; sp.md §5 for where mangos, nng
 * and nanomsg differ and which one netlab follows).
 */
export const SPEC_OPTION_DEFAULTS: Readonly<OptionValues> = Object.freeze({
  'RECV-DEADLINE': null,
  'SEND-DEADLINE': null,
  'RETRY-TIME': 60 * SECOND_US, // sp.md §3: 60 s in mangos, nng and nanomsg
  'WRITEQ-LEN': 128,
  'READQ-LEN': 128,
  LINGER: SECOND_US,
  'MAX-RCV-SIZE': 1024 * 1024, // mangos' 1 MiB (sp.md §1)
  'RECONNECT-TIME': 100 * MS_US, // mangos (sp.md §5)
  'MAX-RECONNECT-TIME': 0, // no backoff unless set
  'HANDSHAKE-TIMEOUT': 10 * SECOND_US, // nng's value
  TTL: 8,
  'BEST-EFFORT': false,
  'FAIL-NO-PEERS': false,
  'GARBAGE-CLOSES-PIPE': false,
  'DIAL-ASYNCH': false,
  RAW: false,
  'LOCAL-ADDR': '',
  'REMOTE-ADDR': '',
  'SURVEY-TIME': SECOND_US, // sp.md §3: 1 s everywhere (not the RFC's 60 s)
  SUBSCRIBE: new Uint8Array(0),
  UNSUBSCRIBE: new Uint8Array(0),
  'PREFER-NEW': true,
  POLYAMOROUS: false,
});

/** An option of a scenario socket as the scenario configures it: its own, else the runner's, else the documented default. */
export function scenarioOption<N extends OptionName>(spec: SocketSpec, name: N): OptionValues[N] {
  const own = spec.options[name];
  if (own !== undefined) return own;
  const runner = SCENARIO_SOCKET_DEFAULTS[name];
  if (runner !== undefined) return runner;
  return SPEC_OPTION_DEFAULTS[name];
}

/** A socket type's protocol id (connection header bytes 4-5) and the id its peer must send (sp.md §2). */
interface SpecProtocol {
  id: number;
  peerId: number;
}

/** sp.md §2, by nng's names; raw sockets (x*) take their cooked type's ids. */
const SPEC_PROTOCOLS: Readonly<Record<string, SpecProtocol>> = Object.freeze({
  pair0: { id: 0x10, peerId: 0x10 },
  pair1: { id: 0x11, peerId: 0x11 },
  pub0: { id: 0x20, peerId: 0x21 },
  sub0: { id: 0x21, peerId: 0x20 },
  req0: { id: 0x30, peerId: 0x31 },
  rep0: { id: 0x31, peerId: 0x30 },
  push0: { id: 0x50, peerId: 0x51 },
  pull0: { id: 0x51, peerId: 0x50 },
  surveyor0: { id: 0x62, peerId: 0x63 },
  respondent0: { id: 0x63, peerId: 0x62 },
  bus0: { id: 0x70, peerId: 0x70 },
  star: { id: 0x640, peerId: 0x640 },
});

/** Every protocol id of the table, each once, in table order. */
export const SPEC_PROTOCOL_IDS: readonly number[] = [
  ...new Set(Object.values(SPEC_PROTOCOLS).map((p) => p.id)),
];

/** The ids of a socket type (raw `x` names map to the cooked type); throws for a name not in sp.md §2. */
export function specProtocol(name: string): SpecProtocol {
  const cooked = name.startsWith('x') ? name.slice(1) : name;
  const p = SPEC_PROTOCOLS[cooked];
  if (p === undefined) throw new Error(`no protocol '${name}' in sp.md §2`);
  return p;
}

/** The 8-byte connection header a peer of `protocol` sends: 00 'S' 'P' 00, its id (u16 BE), 00 00 (sp.md §1). */
export function headerForPeerOf(protocol: string): Uint8Array {
  const id = specProtocol(protocol).peerId;
  return Uint8Array.of(0x00, 0x53, 0x50, 0x00, id >> 8, id & 0xff, 0x00, 0x00);
}

/** A SUB topic match: the body starts with every byte of the topic (an empty topic matches all; sp.md §3). */
export function topicMatches(body: Uint8Array, topic: Uint8Array): boolean {
  if (topic.length > body.length) return false;
  for (let i = 0; i < topic.length; i++) if (body[i] !== topic[i]) return false;
  return true;
}
