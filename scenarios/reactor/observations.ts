/** What the reactor actors record (./taps.ts, ./actors.ts) and the checks judge (./checks.ts). */

/** One callback event of a server connection, in the order the tap saw them. */
export type CallbackEventKind =
  | 'prepare'
  | 'connect-start'
  | 'connect-end'
  | 'request-start'
  | 'request-end'
  | 'disconnect'
  /** A close callback ran; `arg` is its registration index (0 first registered). */
  | 'close-cb';

export interface CallbackEvent {
  ev: CallbackEventKind;
  atUs: number;
  /** request-end: bytes the invocation consumed; close-cb: the callback's index. */
  arg?: number;
}

/** One onRequest invocation as the balance check sees it. */
export interface RequestRecord {
  startUs: number;
  /** The latest moment before it that made a run due: data in, the previous run's end, onConnect's end. */
  dueUs: number;
}

export interface BlockingWait {
  kind: 'read' | 'flush';
  startUs: number;
  endUs: number | null;
  /** 'ok' or the error code it ended with. */
  outcome: string | null;
}

export interface ServerConnObs {
  server: string;
  id: number;
  loop: number;
  /** The peer's address (the client's local address). */
  remote: string;
  openedUs: number;
  events: CallbackEvent[];
  requests: RequestRecord[];
  waits: BlockingWait[];
  /** Bytes the reactor took in from the stream. */
  bytesIn: number;
  /** Bytes the handlers consumed. */
  consumed: number;
  /** The largest single read (chunk) the stream delivered. */
  maxChunkBytes: number;
  /** The most input held right after a read. */
  maxHeldAfterRead: number;
  /** Reads after which input held was at or above the high-water mark, no blocking read waited, and reading was not paused. */
  unpausedOverHigh: number;
  /** Times reading was paused. */
  readPauses: number;
  /** The last time a byte moved either way (read, or taken by a write). */
  lastByteUs: number;
  /** Writes the stream took only part of. */
  shortWrites: number;
  /** onWritable samples where write interest was held with no byte left. */
  interestWithoutBytes: number;
  /** onWritable samples after a short write where the connection held no write interest. */
  bytesWithoutInterest: number;
  /** The longest run of consecutive invocations that consumed nothing. */
  maxUnconsumedStreak: number;
  unconsumedStreak: number;
  /** When the reactor began closing it, why, and what output was unsent then. */
  closeAtUs: number | null;
  closeReason: string | null;
  unsentAtClose: number;
  /** Read timeouts the connection counted (its stats) when it closed. */
  readTimeoutsCounted: number;
  /** The connection's idle timeout (as configured). */
  idleTimeoutUs: number;
  /** onRequest was running (the tap's view). */
  inRequest: boolean;
  /** The first bytes the stream delivered: which client it serves. */
  head: number[];
}

export interface ServerObs {
  name: string;
  host: string;
  boots: number;
  listenErrors: string[];
  listeningAtUs: number | null;
  conns: ServerConnObs[];
  /** CPU charges per loop, in order: the handler's and costUsPerRequest's. */
  charges: { loop: number; atUs: number; us: number }[];
  /** Per accepted connection: its loop and the open connections per loop just before (the tap's count). */
  assignments: { loop: number; openBefore: number[] }[];
}

export interface ClientObs {
  name: string;
  host: string;
  connectError: string | null;
  connectedAtUs: number | null;
  localAddress: string | null;
  /** Bytes of its stream the transport took. */
  sentBytes: number;
  /** Bytes received. */
  receivedBytes: number;
  /** The first offset where a received byte differs from the stream it sent, or -1. */
  mismatchAt: number;
  /** null while open; 'clean' or the error code. */
  closed: string | null;
  closedAtUs: number | null;
  /** Writes that had to wait for the transport (its sender blocked). */
  blockedWrites: number;
  /** Actions finished (the script's position). */
  actionsDone: number;
  /** Why the script stopped early (an error code), or null. */
  scriptError: string | null;
  doneAtUs: number | null;
  /** The client half-closed, closed or reset (the action it took), or null. */
  ended: 'half-close' | 'close' | 'reset' | null;
}

export interface ReactorObservations {
  clients: Record<string, ClientObs>;
  servers: Record<string, ServerObs>;
  crash: string | null;
}
