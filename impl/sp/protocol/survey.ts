/**
 * SURVEYOR0 (protocol 98) and RESPONDENT0 (protocol 99), cooked and raw.
 *
 * SURVEYOR: a send starts a survey: a new survey id (top bit set; the first from the seeded stream,
 * then +1) goes with the body to every pipe, never blocking (a pipe whose queue of WRITEQ-LEN is full
 * misses that survey, counted). The survey collects responses for SURVEY-TIME (default 1 s; 0 = until
 * the next survey). A new survey on the same context cancels the previous one (a recv blocked on it
 * gets ErrCanceled, its unread responses are discarded). recv with no survey is ErrProtoState; a recv
 * still waiting when the survey expires gets ErrTimedOut (nng's NNG_ETIMEDOUT), and later ones
 * ErrProtoState, as nng; unread responses are discarded at expiry. Responses whose id is not a live
 * survey's (stale, unknown) are dropped and counted, as are responses shorter than 4 bytes or without
 * the top bit (GARBAGE-CLOSES-PIPE closes their pipe, as nng). Each survey keeps at most READQ-LEN
 * unread responses; more are dropped and counted. Contexts each run their own survey.
 *
 * RESPONDENT: like REP: receives a survey with its backtrace (pipe ids pushed by devices, ending with
 * the survey id), answers in lockstep per context (send without a survey, or a second concurrent recv,
 * is ErrProtoState), drops stacks beyond TTL words (the survey id included) or without an id word, and
 * sends each response back on the pipe the survey came from, queueing per pipe up to WRITEQ-LEN and
 * then blocking (BEST-EFFORT drops); a response for a pipe that has gone is dropped and send succeeds.
 *
 * Raw: XSURVEYOR sends each message as given (the application puts the survey id in the header) to
 * every pipe, never blocking, and delivers responses with the first word as header. XRESPONDENT
 * delivers surveys with the arrival pipe's id prepended to the backtrace (its word counts against
 * TTL) and sends a message to the pipe named by its first header word, stripping it; a short header or
 * an unknown pipe is discarded, as is a message for a pipe whose queue is full.
 */
import { concatBytes, encodeU32, readU32 } from '../../runtime/bytes.js';
import type { Deferred, Env, TimerHandle } from '../../runtime/env.js';
import { messageBytes, type Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import { Socket, type Context, type ProtocolImpl, type SocketOptions } from '../core/socket.js';
import { spError, type SpErrorCode } from '../errors.js';
import { LockstepInbox, LockstepOutbox, lockstepState, type LockstepState } from './lockstep.js';
import { protocolByName, type ProtocolInfo } from '../wire/protocols.js';
import { splitBacktrace } from './rep0.js';
import { replyIdOf } from './req0.js';

const MSB = 0x8000_0000;
const EMPTY = new Uint8Array(0);

/**
 * Per-pipe outgoing queues that never block the sender: a message goes out at once when the pipe is
 * ready, else waits in the pipe's queue of up to `cap` messages (0: only when ready), else is dropped.
 * A queue holds messages only while its pipe is busy, and the pipe's pipeReady flushes it, so the
 * protocols' pumpSend (after setOption) has nothing to move.
 */
class BroadcastQueues {
  readonly queues = new Map<Pipe, Message[]>();

  add(pipe: Pipe): void {
    this.queues.set(pipe, []);
  }

  remove(pipe: Pipe): void {
    this.queues.delete(pipe);
  }

  /** Queues or sends `msg` on `pipe`; false when it was dropped (queue full). */
  offer(pipe: Pipe, msg: Message, cap: number): boolean {
    const q = this.queues.get(pipe);
    if (q === undefined) return false;
    if (q.length === 0 && pipe.ready && pipe.send(msg)) return true;
    if (q.length >= cap) return false;
    q.push(msg);
    return true;
  }

  flush(pipe: Pipe): void {
    const q = this.queues.get(pipe);
    while (q !== undefined && q.length > 0 && pipe.ready && pipe.send(q[0]!)) q.shift();
  }
}

// ====================================================================== SURVEYOR

/** One survey of a context, from send until it expires or the next survey replaces it. */
export interface Survey {
  ctx: Context;
  /** Survey id with the top bit set (unsigned). */
  id: number;
  timer: TimerHandle | undefined;
  /** Responses received and not yet taken by recv (at most READQ-LEN). */
  responses: Message[];
}

interface SurveyorState {
  survey: Survey | undefined;
  recvWaiter: { done: Deferred<Message>; timer: TimerHandle | undefined } | undefined;
}

export interface Surveyor0Stats {
  /** Surveys started. */
  surveys: number;
  /** Survey copies not sent to a pipe because its queue (WRITEQ-LEN) was full. */
  droppedSends: number;
  /** Responses dropped because their id named no live survey (older, expired or unknown). */
  staleResponses: number;
  /** Responses dropped because they were shorter than 4 bytes or their first word lacked the top bit. */
  garbageResponses: number;
  /** Responses dropped because their survey already held READQ-LEN unread ones. */
  overflowResponses: number;
  /** Responses discarded unread when their survey expired or was replaced. */
  discardedResponses: number;
  /** Responses handed to the application. */
  collected: number;
}

/** The SURVEYOR0 protocol; exported so a variant can override its hook methods (the bug museum does). */
export class Surveyor0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly contexts = true;
  readonly stats: Surveyor0Stats = {
    surveys: 0,
    droppedSends: 0,
    staleResponses: 0,
    garbageResponses: 0,
    overflowResponses: 0,
    discardedResponses: 0,
    collected: 0,
  };
  private counter: number;
  /** Live surveys (sent, not expired or replaced) by survey id. */
  protected readonly byId = new Map<number, Survey>();
  private readonly out = new BroadcastQueues();

  constructor(protected readonly socket: Socket) {
    this.info = protocolByName('surveyor0')!;
    this.counter = socket.env.random('sp/surveyor0/ids').int(0, 0x7fff_ffff);
  }

  private env(): Env {
    return this.socket.env;
  }

  protected state(ctx: Context): SurveyorState {
    ctx.state ??= { survey: undefined, recvWaiter: undefined } satisfies SurveyorState;
    return ctx.state as SurveyorState;
  }

  /** The next survey id: the counter + 1 with the top bit set. */
  protected newId(): number {
    this.counter = (this.counter + 1) & 0x7fff_ffff;
    return (this.counter | MSB) >>> 0;
  }

  /**
   * The live survey a response with survey id `id` belongs to, or undefined (the response is
   * dropped): only the survey with exactly that id, so a response to an older survey is never
   * collected.
   */
  protected surveyForResponse(id: number): Survey | undefined {
    return this.byId.get(id);
  }

  attach(pipe: Pipe): undefined {
    this.out.add(pipe);
    return undefined;
  }

  detach(pipe: Pipe): void {
    this.out.remove(pipe);
  }

  pipeReady(pipe: Pipe): void {
    this.out.flush(pipe);
    this.socket.pipeDrained();
  }

  /** Nothing to pump: sendMsg bypasses the core's queue; see BroadcastQueues for who flushes. */
  pumpSend(): void {}

  /** Ends a survey: forget its id, discard its unread responses, fail a waiting recv with `code`. */
  private end(s: Survey, code: SpErrorCode, why: string): void {
    if (s.timer !== undefined) this.env().clearTimer(s.timer);
    s.timer = undefined;
    if (this.byId.get(s.id) === s) this.byId.delete(s.id);
    this.stats.discardedResponses += s.responses.length;
    s.responses.length = 0;
    const st = this.state(s.ctx);
    if (st.survey === s) st.survey = undefined;
    const w = st.recvWaiter;
    if (w !== undefined) {
      st.recvWaiter = undefined;
      if (w.timer !== undefined) this.env().clearTimer(w.timer);
      w.done.reject(spError(code, why));
    }
  }

  sendMsg(ctx: Context, msg: Message): Promise<void> {
    const done = this.env().defer<void>();
    const st = this.state(ctx);
    if (st.survey !== undefined) this.end(st.survey, 'ErrCanceled', 'a new survey replaced this one');
    const id = this.newId();
    const survey: Survey = { ctx, id, timer: undefined, responses: [] };
    this.byId.set(id, survey);
    st.survey = survey;
    this.stats.surveys++;
    const surveyTimeUs = ctx.option('SURVEY-TIME');
    if (surveyTimeUs > 0) {
      survey.timer = this.env().setTimer(
        surveyTimeUs,
        () => {
          survey.timer = undefined;
          this.end(survey, 'ErrTimedOut', `survey ${id.toString(16)} expired after ${surveyTimeUs} us`);
        },
        'sp-survey-time',
      );
    }
    const frame: Message = { header: encodeU32(id), body: msg.body };
    if (this.env().tracing)
      this.env().trace({
        kind: 'msg-send',
        proto: 'surveyor0',
        msg: 'survey',
        bytes: 4 + msg.body.length,
        fields: [{ name: 'survey-id', offset: 0, length: 4, value: id }],
        corr: id,
      });
    const cap = this.socket.getOption('WRITEQ-LEN');
    for (const pipe of [...this.out.queues.keys()]) {
      if (!this.out.offer(pipe, frame, cap)) this.stats.droppedSends++;
    }
    // A survey never blocks: it went to every pipe that could take it.
    done.resolve();
    return done.promise;
  }

  recvMsg(ctx: Context): Promise<Message> {
    const done = this.env().defer<Message>();
    const st = this.state(ctx);
    const s = st.survey;
    if (s === undefined) {
      done.reject(spError('ErrProtoState', 'recv with no survey in progress'));
      return done.promise;
    }
    if (st.recvWaiter !== undefined) {
      done.reject(spError('ErrProtoState', 'a recv is already waiting on this context'));
      return done.promise;
    }
    const queued = s.responses.shift();
    if (queued !== undefined) {
      this.stats.collected++;
      done.resolve(queued);
      return done.promise;
    }
    st.recvWaiter = { done, timer: undefined };
    const deadline = ctx.option('RECV-DEADLINE');
    if (deadline !== null) {
      st.recvWaiter.timer = this.env().setTimer(
        deadline,
        () => {
          // The survey goes on: a later recv can still collect its responses.
          if (st.recvWaiter?.done !== done) return;
          st.recvWaiter = undefined;
          done.reject(spError('ErrRecvTimeout', `no response within ${deadline} us`));
        },
        'sp-recv-deadline',
      );
    }
    return done.promise;
  }

  pipeMessage(pipe: Pipe, msg: Message): void {
    const body = msg.body;
    const id = replyIdOf(body);
    if (id === undefined) {
      this.stats.garbageResponses++;
      if (this.socket.getOption('GARBAGE-CLOSES-PIPE'))
        pipe.abort('ErrGarbled', 'response without a survey id word (GARBAGE-CLOSES-PIPE)');
      if (this.env().tracing)
        this.env().trace({
          kind: 'note',
          text: `sp surveyor0: dropped a response (${body.length < 4 ? 'shorter than 4 bytes' : 'no top bit'})`,
        });
      return;
    }
    const s = this.surveyForResponse(id);
    if (s === undefined) {
      this.stats.staleResponses++;
      if (this.env().tracing)
        this.env().trace({
          kind: 'note',
          text: `sp surveyor0: dropped a response to survey ${id.toString(16)} (stale or unknown)`,
        });
      return;
    }
    if (this.env().tracing)
      this.env().trace({
        kind: 'msg-recv',
        proto: 'surveyor0',
        msg: 'response',
        bytes: body.length,
        fields: [{ name: 'survey-id', offset: 0, length: 4, value: id }],
        corr: id,
        answer: true,
      });
    const response: Message = { header: body.subarray(0, 4), body: body.subarray(4), pipe };
    const st = this.state(s.ctx);
    if (st.recvWaiter !== undefined && st.survey === s) {
      const w = st.recvWaiter;
      st.recvWaiter = undefined;
      if (w.timer !== undefined) this.env().clearTimer(w.timer);
      this.stats.collected++;
      w.done.resolve(response);
      return;
    }
    if (s.responses.length >= this.socket.getOption('READQ-LEN')) {
      this.stats.overflowResponses++;
      return;
    }
    s.responses.push(response);
  }

  closeContext(ctx: Context): void {
    const st = this.state(ctx);
    if (st.survey !== undefined) this.end(st.survey, 'ErrClosed', 'context closed');
    if (st.recvWaiter !== undefined) {
      st.recvWaiter.done.reject(spError('ErrClosed', 'context closed'));
      st.recvWaiter = undefined;
    }
  }
}

/**
 * Opens a SURVEYOR0 socket on a runtime env; `protocol` builds its protocol (default Surveyor0: a
 * variant passes a subclass).
 */
export function openSurveyor0(
  env: Env,
  options: SocketOptions = {},
  protocol: (socket: Socket) => Surveyor0 = (socket) => new Surveyor0(socket),
): Socket {
  const socket = new Socket(env, ['SURVEY-TIME', 'GARBAGE-CLOSES-PIPE'], options);
  socket.protocol = protocol(socket);
  return socket;
}

/** The SURVEYOR0 statistics of a socket opened with openSurveyor0 (undefined for other sockets). */
export function surveyor0Stats(socket: Socket): Surveyor0Stats | undefined {
  return socket.protocol instanceof Surveyor0 ? socket.protocol.stats : undefined;
}

// ====================================================================== RESPONDENT

type RespondentState = LockstepState;

export interface Respondent0Stats {
  /** Surveys dropped: no terminating survey-id word, or a backtrace longer than TTL words. */
  droppedSurveys: number;
  /** Responses dropped because their pipe had gone (or, with BEST-EFFORT, its queue was full). */
  droppedResponses: number;
}

/** The RESPONDENT0 protocol. */
export class Respondent0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly contexts = true;
  /** The lockstep receive side (shared with the other lockstep responder). */
  private readonly inbox: LockstepInbox;
  readonly stats: Respondent0Stats = { droppedSurveys: 0, droppedResponses: 0 };
  /** Attached pipes with their queued responses and blocked senders. */
  private readonly outbox: LockstepOutbox;

  constructor(private readonly socket: Socket) {
    this.inbox = new LockstepInbox(socket, 'survey');
    this.outbox = new LockstepOutbox(socket, 'response', (n) => (this.stats.droppedResponses += n));
    this.info = protocolByName('respondent0')!;
  }

  private env(): Env {
    return this.socket.env;
  }

  private state(ctx: Context): RespondentState {
    return lockstepState(ctx);
  }

  attach(pipe: Pipe): undefined {
    this.outbox.attach(pipe);
    return undefined;
  }

  detach(pipe: Pipe): void {
    this.outbox.detach(pipe);
  }

  pipeReady(pipe: Pipe): void {
    this.outbox.pipeReady(pipe);
  }

  pumpSend(): void {
    this.outbox.pumpSend();
  }

  pipeMessage(pipe: Pipe, msg: Message): void {
    const ttl = this.socket.getOption('TTL');
    const split = splitBacktrace(msg.body, ttl);
    if (split === undefined) {
      this.stats.droppedSurveys++;
      if (
        this.socket.getOption('GARBAGE-CLOSES-PIPE') &&
        splitBacktrace(msg.body, Number.MAX_SAFE_INTEGER) === undefined
      ) {
        pipe.abort('ErrGarbled', 'survey without a survey id word (GARBAGE-CLOSES-PIPE)');
      }
      if (this.env().tracing)
        this.env().trace({
          kind: 'note',
          text: `sp respondent0: dropped a survey (no survey id within ${ttl} words, or garbage)`,
        });
      return;
    }
    const survey: Message = { header: split.header, body: split.payload, pipe };
    if (this.env().tracing) {
      const id = readU32(split.header, split.header.length - 4);
      this.env().trace({
        kind: 'msg-recv',
        proto: 'respondent0',
        msg: 'survey',
        bytes: msg.body.length,
        fields: [
          { name: 'backtrace-words', offset: 0, length: split.header.length, value: split.header.length / 4 },
          { name: 'survey-id', offset: split.header.length - 4, length: 4, value: id },
        ],
        corr: id,
      });
    }
    this.inbox.deliver(pipe, survey);
  }

  recvMsg(ctx: Context): Promise<Message> {
    return this.inbox.recv(ctx);
  }

  sendMsg(ctx: Context, msg: Message): Promise<void> {
    const done = this.env().defer<void>();
    const st = this.state(ctx);
    if (st.backtrace === undefined || st.pipe === undefined) {
      done.reject(spError('ErrProtoState', 'send without a survey to answer (recv first)'));
      return done.promise;
    }
    const response: Message = { header: st.backtrace, body: msg.body };
    const pipe = st.pipe;
    st.backtrace = undefined;
    st.pipe = undefined;
    // A response for a pipe that has gone is dropped by the outbox, untraced; its send still succeeds.
    if (this.outbox.has(pipe) && this.env().tracing) {
      const id = readU32(response.header, response.header.length - 4);
      this.env().trace({
        kind: 'msg-send',
        proto: 'respondent0',
        msg: 'response',
        bytes: response.header.length + response.body.length,
        fields: [{ name: 'survey-id', offset: response.header.length - 4, length: 4, value: id }],
        corr: id,
        answer: true,
      });
    }
    this.outbox.send(ctx, pipe, response, done);
    return done.promise;
  }

  closeContext(ctx: Context): void {
    this.inbox.close(ctx);
  }
}

/** Opens a RESPONDENT0 socket on a runtime env. */
export function openRespondent0(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, ['TTL', 'GARBAGE-CLOSES-PIPE'], options);
  socket.protocol = new Respondent0(socket);
  return socket;
}

/** The RESPONDENT0 statistics of a socket opened with openRespondent0 (undefined for other sockets). */
export function respondent0Stats(socket: Socket): Respondent0Stats | undefined {
  return socket.protocol instanceof Respondent0 ? socket.protocol.stats : undefined;
}

// ====================================================================== raw

export interface RawSurveyStats {
  /** Messages not sent: short header, unknown pipe, or a full per-pipe queue. */
  droppedSends: number;
  /** Received messages dropped: shorter than 4 bytes, or a backtrace beyond TTL / without an id word. */
  droppedReceived: number;
}

/** XSURVEYOR0: raw surveyor; the application (or a device) owns the survey ids. */
export class XSurveyor0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly stats: RawSurveyStats = { droppedSends: 0, droppedReceived: 0 };
  private readonly out = new BroadcastQueues();

  constructor(private readonly socket: Socket) {
    this.info = protocolByName('surveyor0')!;
  }

  attach(pipe: Pipe): undefined {
    this.out.add(pipe);
    return undefined;
  }

  detach(pipe: Pipe): void {
    this.out.remove(pipe);
  }

  pipeReady(pipe: Pipe): void {
    this.out.flush(pipe);
    this.socket.pipeDrained();
  }

  /** Nothing to pump: sendMsg bypasses the core's queue; see BroadcastQueues for who flushes. */
  pumpSend(): void {}

  /** Broadcasts header + body to every pipe; never blocks (a full pipe queue misses it). */
  sendMsg(_ctx: Context, msg: Message): Promise<void> {
    const done = this.socket.env.defer<void>();
    const frame: Message = { header: EMPTY, body: messageBytes(msg) };
    const cap = this.socket.getOption('WRITEQ-LEN');
    for (const pipe of [...this.out.queues.keys()]) {
      if (!this.out.offer(pipe, frame, cap)) this.stats.droppedSends++;
    }
    done.resolve();
    return done.promise;
  }

  pipeMessage(pipe: Pipe, msg: Message): void {
    const body = msg.body;
    if (body.length < 4) {
      this.stats.droppedReceived++;
      return;
    }
    this.socket.deliver(pipe, { header: body.subarray(0, 4), body: body.subarray(4), pipe });
  }
}

/** XRESPONDENT0: raw respondent; headers carry the backtrace with the arrival pipe's id first. */
export class XRespondent0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly stats: RawSurveyStats = { droppedSends: 0, droppedReceived: 0 };
  private readonly byId = new Map<number, Pipe>();
  private readonly out = new BroadcastQueues();

  constructor(private readonly socket: Socket) {
    this.info = protocolByName('respondent0')!;
  }

  attach(pipe: Pipe): undefined {
    this.byId.set(pipe.id, pipe);
    this.out.add(pipe);
    return undefined;
  }

  detach(pipe: Pipe): void {
    this.byId.delete(pipe.id);
    this.out.remove(pipe);
  }

  pipeReady(pipe: Pipe): void {
    this.out.flush(pipe);
    this.socket.pipeDrained();
  }

  /** Nothing to pump: sendMsg bypasses the core's queue; see BroadcastQueues for who flushes. */
  pumpSend(): void {}

  pipeMessage(pipe: Pipe, msg: Message): void {
    // Our hop's word counts against TTL too, so a chain of devices honours it.
    const split = splitBacktrace(msg.body, this.socket.getOption('TTL') - 1);
    if (split === undefined) {
      this.stats.droppedReceived++;
      return;
    }
    this.socket.deliver(pipe, {
      header: concatBytes([encodeU32(pipe.id), split.header]),
      body: split.payload,
      pipe,
    });
  }

  /** Sends to the pipe named by the first header word (or body word, for raw callers), stripping it. */
  sendMsg(_ctx: Context, msg: Message): Promise<void> {
    const done = this.socket.env.defer<void>();
    const all = messageBytes(msg);
    const pipe = all.length >= 4 ? this.byId.get(readU32(all, 0)) : undefined;
    // Short header, unknown pipe or a full queue: discarded, as raw respondents do (never blocks).
    if (
      pipe === undefined ||
      !this.out.offer(pipe, { header: EMPTY, body: all.subarray(4) }, this.socket.getOption('WRITEQ-LEN'))
    )
      this.stats.droppedSends++;
    done.resolve();
    return done.promise;
  }
}

/** Opens a raw SURVEYOR socket (XSURVEYOR0). */
export function openXSurveyor0(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, [], { ...options, options: { ...options.options, RAW: true } });
  socket.protocol = new XSurveyor0(socket);
  return socket;
}

/** Opens a raw RESPONDENT socket (XRESPONDENT0). */
export function openXRespondent0(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, ['TTL'], { ...options, options: { ...options.options, RAW: true } });
  socket.protocol = new XRespondent0(socket);
  return socket;
}

/** The statistics of a raw survey socket (undefined for other sockets). */
export function rawSurveyStats(socket: Socket): RawSurveyStats | undefined {
  const p = socket.protocol;
  return p instanceof XSurveyor0 || p instanceof XRespondent0 ? p.stats : undefined;
}
