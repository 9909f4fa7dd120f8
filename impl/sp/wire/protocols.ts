/**
 * The SP protocol id table: which 16-bit id each socket type announces in its connection header
 * and which id it expects from its peer (sp.md §2; nanomsg `rfc/sp-protocol-ids-01.txt`).
 * An id is `(protocol << 4) | role`; raw (x*) sockets use the same ids as cooked ones.
 */

export interface ProtocolInfo {
  /** nng's name of the socket type, e.g. 'pair0'; mangos drops the version digit. */
  name: string;
  /** The id this socket sends in bytes 4-5 of its connection header. */
  id: number;
  /** The id its peer must send; anything else is ErrBadProto. */
  peerId: number;
  /** The peer's name, e.g. 'sub0' for 'pub0'. */
  peerName: string;
}

function proto(name: string, id: number, peerName: string, peerId: number): Readonly<ProtocolInfo> {
  return Object.freeze({ name, id, peerId, peerName });
}

export const PROTOCOLS: readonly Readonly<ProtocolInfo>[] = Object.freeze([
  proto('pair0', 16, 'pair0', 16),
  proto('pair1', 17, 'pair1', 17),
  proto('pub0', 32, 'sub0', 33),
  proto('sub0', 33, 'pub0', 32),
  proto('req0', 48, 'rep0', 49),
  proto('rep0', 49, 'req0', 48),
  proto('push0', 80, 'pull0', 81),
  proto('pull0', 81, 'push0', 80),
  // 98/99, not 96/97: those are the legacy survey ids without a backtrace (sp-surveyor-01 §8).
  proto('surveyor0', 98, 'respondent0', 99),
  proto('respondent0', 99, 'surveyor0', 98),
  proto('bus0', 112, 'bus0', 112),
  // mangos only (protocol 100, role 0); not registered in the RFC, whose experimental range is 3840-4095.
  proto('star', 1600, 'star', 1600),
]);

const BY_NAME = new Map(PROTOCOLS.map((p) => [p.name, p]));
const BY_ID = new Map(PROTOCOLS.map((p) => [p.id, p]));

/** The protocol with this nng name ('req0', ...), or undefined when there is none. */
export function protocolByName(name: string): Readonly<ProtocolInfo> | undefined {
  return BY_NAME.get(name);
}

/** The protocol announcing this id, or undefined when the id is unknown. */
export function protocolById(id: number): Readonly<ProtocolInfo> | undefined {
  return BY_ID.get(id);
}
