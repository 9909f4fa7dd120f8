/**
 * The wire log of one socket incarnation: what the socket did on each of its pipes, in the order it
 * happened, for the reference models (scenarios/sp/models/). The runner wraps a few of the socket's
 * instance methods (as it already does to sample its queues): the application's sendMsg, the
 * protocol's pipeMessage, the socket's pipeReady, each pipe's send, and close; the pipe hook adds attach and
 * detach. Everything is recorded synchronously, at the call, so the order is the order of the run
 * on the simulator and on real sockets alike, and nothing is scheduled (the trace hash is unchanged).
 * Bodies are kept by reference, not copied: the socket owns them once sent and never changes them.
 */
import type { Env } from '../../../impl/runtime/env.js';
import type { Message } from '../../../impl/sp/core/message.js';
import type { Pipe } from '../../../impl/sp/core/pipe.js';
import type { Context, PipeEvent, Socket } from '../../../impl/sp/core/socket.js';

/** One event of a wire log; `t` is the virtual time (µs) it happened at. */
export type WireEvent =
  /**
   * The socket accepted a pipe (after its handshake); `conn` is the connection id (tcp, ipc; the
   * same on both ends in the simulator), `local` and `remote` its addresses.
   */
  | {
      k: 'attach';
      t: number;
      pipe: number;
      conn: number | null;
      local: string;
      remote: string;
      transport?: 'tcp' | 'ipc' | 'inproc';
    }
  | { k: 'detach'; t: number; pipe: number }
  /** The protocol was told the pipe can take a message. */
  | { k: 'ready'; t: number; pipe: number }
  /** The protocol wrote a message to the pipe; `readyAfter`: the pipe could take another at once. */
  | { k: 'out'; t: number; pipe: number; header: Uint8Array; body: Uint8Array; readyAfter: boolean }
  /** A message arrived from the pipe (the whole payload, before the protocol reads its header). */
  | { k: 'in'; t: number; pipe: number; header: Uint8Array; body: Uint8Array }
  /**
   * The application (or a device) called sendMsg; `pipe`: the pipe the message names, if any;
   * `ctx`: the context it sent on (1, 2, ... in the order the application opened them; absent: the
   * socket itself, i.e. its default context).
   */
  | { k: 'send'; t: number; header: Uint8Array; body: Uint8Array; pipe?: number; ctx?: number }
  /** The application closed context `ctx` (an id as in `send`). */
  | { k: 'ctx-close'; t: number; ctx: number }
  /** A SUB's application subscribed or unsubscribed a topic (default context). */
  | { k: 'subscribe' | 'unsubscribe'; t: number; topic: Uint8Array }
  /** The application closed the socket. */
  | { k: 'close'; t: number }
  /**
   * The outermost of the calls above returned: the socket is at rest until the next stimulus (a
   * model judges "nothing left undone" here, never half-way through a call).
   */
  | { k: 'step'; t: number };

/**
 * What the transport took of one connection of the socket (tcp, ipc), counted at the connection's
 * own write() and close() as the socket calls them (the runner wraps each connection the socket's
 * env hands it): the other half of a pipe's record, so the models can tell what a pipe took from
 * what reached the transport.
 */
export interface ConnWrites {
  /** Connection id (a pipe's attach event names it). */
  conn: number;
  /** Bytes the connection's write() calls accepted so far. */
  writtenBytes: number;
  /** writtenBytes when the socket closed the connection gracefully (close(), not reset); null: it did not. */
  closedAtBytes: number | null;
  /** When the connection broke first (the peer's FIN or reset, a local reset, an error); null: never. */
  brokenAtUs: number | null;
}

/** One incarnation of a socket (a host restart opens another). */
export interface WireLog {
  openedAtUs: number;
  events: WireEvent[];
  /** Its connections, in the order they opened (bounded like the events: WIRE_LOG_MAX_EVENTS). */
  conns: ConnWrites[];
}

/**
 * Most events one incarnation records (a bound, as every buffer here: 200 000, far above the
 * 2 000-message workloads times their fan-out); past it the log stops and says so (`truncated`),
 * and the models then judge nothing for that incarnation.
 */
export const WIRE_LOG_MAX_EVENTS = 200_000;

export interface WireTap {
  readonly log: WireLog & { truncated: boolean };
  /** The socket's pipe hook calls this for each pipe event. */
  pipeEvent(event: PipeEvent, pipe: Pipe): void;
}

type SubscriptionCall = (ctx: Context, topic: Uint8Array) => void;

/**
 * Wraps `s` (just opened) so it records its wire log; returns the tap for its pipe hook. `conns` is
 * the incarnation's connection records, which the runner's connection wrapper fills.
 */
export function tapSocket(s: Socket, env: Env, conns: ConnWrites[] = []): WireTap {
  const log = { openedAtUs: env.nowUs(), events: [] as WireEvent[], conns, truncated: false };
  let depth = 0;
  const rec = (e: WireEvent): void => {
    if (log.events.length >= WIRE_LOG_MAX_EVENTS) log.truncated = true;
    else log.events.push(e);
  };
  // Runs `f` as a stimulus: the outermost one ends with a step marker.
  const stimulus = <T>(f: () => T): T => {
    depth++;
    try {
      return f();
    } finally {
      depth--;
      if (depth === 0) rec({ k: 'step', t: env.nowUs() });
    }
  };
  const sendMsg = s.sendMsg.bind(s);
  s.sendMsg = (msg: Message) =>
    stimulus(() => {
      rec({
        k: 'send',
        t: env.nowUs(),
        header: msg.header,
        body: msg.body,
        ...(msg.pipe !== undefined ? { pipe: msg.pipe.id } : {}),
      });
      return sendMsg(msg);
    });
  // Contexts the application opens: their sends and closes, under an id of their own.
  let contexts = 0;
  const openContext = s.openContext.bind(s);
  s.openContext = () => {
    const ctx = openContext();
    const id = ++contexts;
    const ctxSendMsg = ctx.sendMsg.bind(ctx);
    ctx.sendMsg = (msg: Message) =>
      stimulus(() => {
        rec({ k: 'send', t: env.nowUs(), header: msg.header, body: msg.body, ctx: id });
        return ctxSendMsg(msg);
      });
    const ctxClose = ctx.close.bind(ctx);
    ctx.close = () =>
      stimulus(() => {
        rec({ k: 'ctx-close', t: env.nowUs(), ctx: id });
        ctxClose();
      });
    return ctx;
  };
  const close = s.close.bind(s);
  s.close = () =>
    stimulus(() => {
      rec({ k: 'close', t: env.nowUs() });
      return close();
    });
  const protocol = s.protocol;
  const pipeMessage = protocol.pipeMessage.bind(protocol);
  protocol.pipeMessage = (pipe: Pipe, msg: Message) =>
    stimulus(() => {
      rec({ k: 'in', t: env.nowUs(), pipe: pipe.id, header: msg.header, body: msg.body });
      pipeMessage(pipe, msg);
    });
  // A pipe went away: recorded before the protocol reacts (a REQ resends its request elsewhere
  // within the call), so the log never shows the resend ahead of the loss that caused it.
  const detach = protocol.detach.bind(protocol);
  protocol.detach = (pipe: Pipe) =>
    stimulus(() => {
      rec({ k: 'detach', t: env.nowUs(), pipe: pipe.id });
      detach(pipe);
    });
  // The socket's entry, not the protocol's: after the protocol has sent what it queued, the socket
  // may hand a waiting sender's message straight to the pipe (WRITEQ-LEN 0), within the same step.
  const pipeReady = s.pipeReady.bind(s);
  s.pipeReady = (pipe: Pipe) =>
    stimulus(() => {
      rec({ k: 'ready', t: env.nowUs(), pipe: pipe.id });
      pipeReady(pipe);
    });
  // SUB: the subscriptions as the application changes them (Sub0's own methods, when it has them).
  const subs = protocol as unknown as Partial<Record<'subscribe' | 'unsubscribe', SubscriptionCall>>;
  for (const k of ['subscribe', 'unsubscribe'] as const) {
    const f = subs[k];
    if (typeof f !== 'function') continue;
    const call = f.bind(protocol);
    subs[k] = (ctx, topic) =>
      stimulus(() => {
        if (ctx === s.defaultContext) rec({ k, t: env.nowUs(), topic: topic.slice() });
        call(ctx, topic);
      });
  }
  return {
    log,
    pipeEvent(event, pipe) {
      if (event === 'attaching') {
        // Wrapped before the protocol sees the pipe, so a send from attach() is recorded too.
        const send = pipe.send.bind(pipe);
        pipe.send = (msg: Message) => {
          const ok = send(msg);
          if (ok)
            rec({
              k: 'out',
              t: env.nowUs(),
              pipe: pipe.id,
              header: msg.header,
              body: msg.body,
              readyAfter: pipe.ready,
            });
          return ok;
        };
      } else if (event === 'attached') {
        rec({
          k: 'attach',
          t: env.nowUs(),
          pipe: pipe.id,
          conn: pipe.connId ?? null,
          transport: pipe.transport,
          local: pipe.localAddress,
          remote: pipe.remoteAddress,
        });
      }
      // 'detached' comes after the protocol handled the loss: the detach is recorded at the
      // protocol's detach() instead (below), before what the protocol does about it.
    },
  };
}
