/**
 * The deterministic scheduler: one event queue on virtual time (integer microseconds), ties broken
 * by insertion order, seeded randomness, and the trace.
 *
 * Async fidelity: every event runs to completion, including the promise continuations it triggers,
 * before the next event starts, as on a real event loop. Node drains microtasks only when control
 * returns to the host, so the run loop stays synchronous while events are plain callbacks, and awaits
 * one host yield after a "dirty" event: one that settled a promise through the world (`defer`,
 * `sleep`), returned a promise (an async callback), or called `markDirty()`. Strict mode yields after
 * every event; both modes must give the same trace hash (tested). See sim/README.md.
 */
import { assert, AssertionError } from '../impl/runtime/assert.js';
import { checkDelayUs, SimError } from './errors.js';
import { DEFAULT_MAX_PENDING_EVENTS, EventQueue, type EventFn } from './event-queue.js';
import { defaultYieldToHost, type YieldToHost } from './host-yield.js';
import { Rng } from './rng.js';
import { Trace, type TraceOptions } from './trace.js';

export type WorldMode = 'fast' | 'strict';
export type WorldState = 'idle' | 'running' | 'closed' | 'failed';

/** Default bound on events per run() call; see RunOptions.maxEvents. */
export const DEFAULT_MAX_EVENTS_PER_RUN = 100_000_000;

/**
 * Slots the event queue starts with; it doubles as needed. Most worlds are small (a campaign runs
 * thousands of short scenarios), and starting small means ordinary scenarios take the growth path
 * too, which the order audit then watches.
 */
const INITIAL_QUEUE_SLOTS = 64;

/** Delays up to 2^40 us (~12.7 virtual days) take the fast path in post(); larger ones are checked fully. */
const MAX_FAST_DELAY_US = 2 ** 40;

export interface WorldOptions {
  /** Root seed; every random stream of the world is a named fork of it. */
  seed: string | number;
  /** 'fast' (default) yields to the host only after dirty events; 'strict' after every event. */
  mode?: WorldMode;
  /** How to give the host loop a turn; default sim/host-yield.ts (Node: a tick; browsers: a MessageChannel message). */
  yieldToHost?: YieldToHost;
  /** Trace hashing (default on) and sinks (default none). */
  trace?: TraceOptions;
  /** Bound on pending events; scheduling beyond it throws ERR_QUEUE_FULL. Default 4 000 000. */
  maxPendingEvents?: number;
  /** Record timer-set / timer-fire / timer-clear events for timers (default true). */
  traceTimers?: boolean;
}

export interface RunOptions {
  /** Stop before any event later than this virtual time; the clock then reads exactly untilUs. */
  untilUs?: number;
  /** Same as untilUs = now + forUs. */
  forUs?: number;
  /** Stop after this many events (default 100 000 000): a run always has a bound. */
  maxEvents?: number;
}

/**
 * The scheduler's own audit of the order events ran in, kept apart from the event queue (its own
 * scheduling counter per slot), so a queue that breaks ties or misorders after it grows is caught:
 * the engine's self-check sim.events-in-order reads it. Events run in (virtual time, scheduling
 * order); a run bounded by untilUs leaves no event due at or before its bound.
 */
export interface EventOrderAudit {
  /** Events the audit watched: every event run over the world's life. */
  events: number;
  /** Events that ran after one due later, or after one at the same time scheduled after them. */
  outOfOrder: number;
  /** The first of them: its time and scheduling number, and those of the event that ran before it. */
  first: { tUs: number; seq: number; previousTUs: number; previousSeq: number } | null;
  /** Bounded runs (untilUs) that stopped while an event was still due at or before the bound. */
  stoppedEarly: number;
  firstStop: { untilUs: number; dueUs: number } | null;
}

export type RunEndReason = 'idle' | 'time-limit' | 'event-limit' | 'stopped';

export interface RunResult {
  reason: RunEndReason;
  nowUs: number;
  /** Events run by this call. */
  events: number;
  /** Events still queued. */
  pending: number;
  /** Host yields this call awaited. */
  yields: number;
  /** Running trace hash after the run ('' with hashing off). */
  traceHash: string;
}

/**
 * A promise the world settles, so the scheduler knows continuations are pending. resolve and
 * reject are methods (call them on the object; bind them before passing them around): a class with
 * prototype methods allocates far less per promise than an object of closures, which matters at
 * millions of promises per second.
 */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
  readonly settled: boolean;
}

class WorldDeferred<T> implements Deferred<T> {
  readonly promise: Promise<T>;
  settled = false;
  private res!: (value: T) => void;
  private rej!: (reason: unknown) => void;

  constructor(private readonly world: World) {
    this.promise = new Promise<T>((res, rej) => {
      this.res = res;
      this.rej = rej;
    });
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.world.markDirty();
    this.res(value);
  }

  reject(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.world.markDirty();
    this.rej(reason);
  }
}

export interface TimerOptions {
  /** Host the timer belongs to, for the trace. */
  host?: string;
  /** What the timer is for ("redial", "handshake-timeout"), for the trace. */
  label?: string;
}

/** Handle of a pending timer; pass it to world.clearTimer(). */
export class Timer {
  /** @internal queue slot while pending, -1 after it fired or was cleared. */
  slot = -1;

  constructor(
    /** @internal */ readonly owner: World,
    readonly id: number,
    readonly fn: () => unknown,
    readonly host: string | undefined,
    readonly label: string | undefined,
  ) {}

  get pending(): boolean {
    return this.slot >= 0;
  }
}

function fireTimer(arg: unknown): unknown {
  const timer = arg as Timer;
  return timer.owner.fire(timer);
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

export class World {
  readonly rng: Rng;
  readonly trace: Trace;
  readonly mode: WorldMode;
  private readonly queue: EventQueue;
  private readonly yieldToHost: YieldToHost;
  private readonly traceTimers: boolean;
  private nowUsValue = 0;
  private dirty = false;
  private stopRequested = false;
  private stateValue: WorldState = 'idle';
  /** stateValue is 'closed' or 'failed' (a boolean, checked on every post). */
  private finished = false;
  private failure: { error: unknown } | undefined;
  private nextTimerId = 1;
  /** Events run over the world's life. */
  eventsRun = 0;
  /** The order audit (see EventOrderAudit): each pending slot's scheduling number, and the last event run. */
  private scheduledSeq = new Float64Array(INITIAL_QUEUE_SLOTS);
  private nextScheduledSeq = 0;
  private lastRunTUs = -1;
  private lastRunSeq = -1;
  private readonly orderAudit: EventOrderAudit = {
    events: 0,
    outOfOrder: 0,
    first: null,
    stoppedEarly: 0,
    firstStop: null,
  };

  constructor(options: WorldOptions) {
    if (typeof options.seed !== 'string' && typeof options.seed !== 'number') {
      throw new SimError('ERR_BAD_ARGUMENT', `seed must be a string or number, got ${typeof options.seed}`);
    }
    const mode = options.mode ?? 'fast';
    if (mode !== 'fast' && mode !== 'strict') {
      throw new SimError('ERR_BAD_ARGUMENT', `mode must be 'fast' or 'strict', got ${String(mode)}`);
    }
    this.mode = mode;
    this.rng = new Rng(options.seed);
    this.queue = new EventQueue(
      options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS,
      Math.min(INITIAL_QUEUE_SLOTS, options.maxPendingEvents ?? DEFAULT_MAX_PENDING_EVENTS),
    );
    this.yieldToHost = options.yieldToHost ?? defaultYieldToHost;
    this.traceTimers = options.traceTimers ?? true;
    this.trace = new Trace(() => this.nowUsValue, options.trace);
  }

  /** Current virtual time in microseconds. */
  get nowUs(): number {
    return this.nowUsValue;
  }

  get state(): WorldState {
    return this.stateValue;
  }

  /** Number of events waiting in the queue. */
  get pending(): number {
    return this.queue.size;
  }

  /**
   * Schedules `fn(arg)` after `delayUs` of virtual time. The cheapest way to schedule: no handle, no
   * trace event. Use it for the simulator's own machinery; use setTimer for timers code can cancel.
   */
  post<A>(delayUs: number, fn: (arg: A) => unknown, arg: A): void {
    if (this.finished) this.assertOpen();
    // Hot path: an integer delay in range skips the full validation (NaN fails the comparison).
    const d =
      Number.isInteger(delayUs) && delayUs >= 0 && delayUs <= MAX_FAST_DELAY_US
        ? delayUs
        : checkDelayUs(delayUs, 'delay');
    this.noteScheduled(this.queue.push(this.nowUsValue + d, fn as EventFn, arg));
  }

  /**
   * @internal Schedules fn(arg) at an absolute virtual time the caller computed and guarantees
   * (an integer, not in the past): the simulator's hottest path skips post()'s validation.
   */
  postAt<A>(timeUs: number, fn: (arg: A) => unknown, arg: A): void {
    // Produced: nothing is scheduled in the past (consumed: the run loop's check).
    assert(timeUs >= this.nowUsValue, 'an event is never scheduled before the current virtual time');
    this.noteScheduled(this.queue.push(timeUs, fn as EventFn, arg));
  }

  /** Starts a timer that calls fn after delayUs of virtual time. */
  setTimer(delayUs: number, fn: () => unknown, options?: TimerOptions): Timer {
    this.assertOpen();
    const d = checkDelayUs(delayUs, 'timer delay');
    const timer = new Timer(this, this.nextTimerId++, fn, options?.host, options?.label);
    timer.slot = this.queue.push(this.nowUsValue + d, fireTimer, timer);
    this.noteScheduled(timer.slot);
    if (this.traceTimers && this.trace.enabled) {
      this.trace.emit(withTimerContext({ kind: 'timer-set', timer: timer.id, delayUs: d }, timer));
    }
    return timer;
  }

  /** Cancels a pending timer. Clearing a fired or cleared timer does nothing; a foreign handle throws. */
  clearTimer(timer: Timer): void {
    if (!(timer instanceof Timer) || timer.owner !== this) {
      throw new SimError(
        'ERR_FOREIGN_TIMER',
        'clearTimer was given a handle that is not a timer of this world',
      );
    }
    if (timer.slot < 0) return;
    const removed = this.queue.remove(timer.slot);
    assert(removed, 'a pending timer is in the event queue until it fires or is cleared');
    this.queue.release(timer.slot);
    timer.slot = -1;
    if (this.traceTimers && this.trace.enabled) {
      this.trace.emit(withTimerContext({ kind: 'timer-clear', timer: timer.id }, timer));
    }
  }

  /** @internal called by the queue when a timer's time comes. */
  fire(timer: Timer): unknown {
    // Consumed once: setTimer gave it a slot; firing or clearing takes the slot away for good.
    assert(timer.slot >= 0, 'a timer fires at most once, and never after it was cleared');
    timer.slot = -1;
    if (this.traceTimers && this.trace.enabled) {
      this.trace.emit(withTimerContext({ kind: 'timer-fire', timer: timer.id }, timer));
    }
    return timer.fn();
  }

  /** A promise that the world settles; settling it makes the scheduler drain continuations first. */
  defer<T>(): Deferred<T> {
    this.assertOpen();
    return new WorldDeferred<T>(this);
  }

  /** Resolves after delayUs of virtual time. */
  sleep(delayUs: number): Promise<void> {
    const d = this.defer<void>();
    this.post(delayUs, resolveDeferred, d);
    return d.promise;
  }

  /**
   * Tells the scheduler that the current event started promise work it cannot see (for example it
   * resolved a native promise), so the continuations must run before the next event.
   */
  markDirty(): void {
    this.dirty = true;
  }

  /** Ends the current run after the event in progress (reason 'stopped'). */
  stop(): void {
    this.stopRequested = true;
  }

  /** Finishes the world: no more events or runs; sinks are closed. */
  close(): void {
    if (this.stateValue === 'running') {
      throw new SimError(
        'ERR_WORLD_RUNNING',
        'close() during run(); call stop() from inside the run instead',
      );
    }
    if (this.stateValue === 'closed' || this.stateValue === 'failed') return;
    this.stateValue = 'closed';
    this.finished = true;
    this.trace.close();
  }

  /**
   * Runs events in time order until the queue is empty, a bound is reached, or stop() is called.
   * Rejects with ERR_EVENT_THREW (the world is then finished) if an event or its async body threw,
   * and with the AssertionError itself if one of netlab's internal invariants broke.
   */
  async run(options: RunOptions = {}): Promise<RunResult> {
    if (this.stateValue === 'running')
      throw new SimError('ERR_WORLD_RUNNING', 'run() while a run is in progress');
    this.assertOpen();
    const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS_PER_RUN;
    if (!Number.isInteger(maxEvents) || maxEvents < 0) {
      throw new SimError('ERR_BAD_ARGUMENT', `maxEvents must be an integer >= 0, got ${maxEvents}`);
    }
    let untilUs = Infinity;
    if (options.untilUs !== undefined) {
      untilUs = checkDelayUs(options.untilUs, 'untilUs');
      if (untilUs < this.nowUsValue) {
        throw new SimError(
          'ERR_BAD_DELAY',
          `untilUs ${untilUs} is before the current time ${this.nowUsValue}`,
        );
      }
    }
    if (options.forUs !== undefined) {
      untilUs = Math.min(untilUs, this.nowUsValue + checkDelayUs(options.forUs, 'forUs'));
    }

    this.stateValue = 'running';
    this.stopRequested = false;
    const queue = this.queue;
    const strict = this.mode === 'strict';
    let events = 0;
    let yields = 0;
    let reason: RunEndReason;
    try {
      // Continuations of code that ran before run() (e.g. a deferred resolved by setup code).
      if (this.dirty || strict) {
        this.dirty = false;
        yields++;
        await this.yieldToHost();
      }
      for (;;) {
        if (this.failure !== undefined) throw this.failure.error;
        if (this.stopRequested) {
          reason = 'stopped';
          break;
        }
        if (queue.size === 0) {
          reason = 'idle';
          if (untilUs !== Infinity) this.nowUsValue = untilUs;
          break;
        }
        const t = queue.peekTime();
        if (t > untilUs) {
          reason = 'time-limit';
          this.auditStop(untilUs);
          this.nowUsValue = untilUs;
          break;
        }
        if (events >= maxEvents) {
          reason = 'event-limit';
          break;
        }
        // Consumed: time only moves forward (produced: post() adds a checked delay, postAt asserts).
        assert(t >= this.nowUsValue, 'the event queue never goes back in virtual time');
        queue.take();
        this.nowUsValue = t;
        events++;
        this.auditOrder(t, this.scheduledSeq[queue.takenSlot]!);
        const result = queue.takenFn!(queue.takenArg);
        if (result !== undefined && isThenable(result)) {
          this.dirty = true;
          result.then(undefined, (error: unknown) => {
            this.failure ??= { error };
          });
        }
        if (this.dirty || strict) {
          this.dirty = false;
          yields++;
          await this.yieldToHost();
        }
      }
    } catch (error) {
      this.stateValue = 'failed';
      this.finished = true;
      this.eventsRun += events;
      this.trace.close();
      if (error instanceof SimError && error.code === 'ERR_QUEUE_FULL') throw error;
      // A broken invariant is a bug in netlab, not an event that threw: it surfaces as itself.
      if (error instanceof AssertionError) throw error;
      throw new SimError('ERR_EVENT_THREW', `an event at t=${this.nowUsValue}us threw: ${describe(error)}`, {
        cause: error,
      });
    }
    this.eventsRun += events;
    this.stateValue = 'idle';
    return {
      reason,
      nowUs: this.nowUsValue,
      events,
      pending: queue.size,
      yields,
      traceHash: this.trace.hash(),
    };
  }

  /** The order audit so far (a copy). */
  eventAudit(): EventOrderAudit {
    const a = this.orderAudit;
    return {
      ...a,
      first: a.first === null ? null : { ...a.first },
      firstStop: a.firstStop === null ? null : { ...a.firstStop },
    };
  }

  /** Gives a newly queued event the next scheduling number (the audit's, not the queue's). */
  private noteScheduled(slot: number): void {
    if (slot >= this.scheduledSeq.length) {
      const grown = new Float64Array(Math.max(slot + 1, this.scheduledSeq.length * 2));
      grown.set(this.scheduledSeq);
      this.scheduledSeq = grown;
    }
    this.scheduledSeq[slot] = this.nextScheduledSeq++;
  }

  /** One comparison per event: (time, scheduling number) only grows from one event to the next. */
  private auditOrder(tUs: number, seq: number): void {
    const a = this.orderAudit;
    a.events++;
    if (tUs < this.lastRunTUs || (tUs === this.lastRunTUs && seq < this.lastRunSeq)) {
      a.outOfOrder++;
      a.first ??= { tUs, seq, previousTUs: this.lastRunTUs, previousSeq: this.lastRunSeq };
    }
    this.lastRunTUs = tUs;
    this.lastRunSeq = seq;
  }

  /** A run that stops at its bound must leave no event due at or before it. */
  private auditStop(untilUs: number): void {
    if (this.queue.size === 0) return;
    const dueUs = this.queue.peekTime();
    if (dueUs > untilUs) return;
    const a = this.orderAudit;
    a.stoppedEarly++;
    a.firstStop ??= { untilUs, dueUs };
  }

  private assertOpen(): void {
    if (this.finished) {
      throw new SimError(
        'ERR_WORLD_FINISHED',
        `the world is ${this.stateValue}; create a new world to run again`,
      );
    }
  }
}

function resolveDeferred(arg: unknown): void {
  (arg as Deferred<void>).resolve();
}

function withTimerContext<E extends { kind: string }>(
  e: E,
  timer: Timer,
): E & { host?: string; label?: string } {
  const out: E & { host?: string; label?: string } = e;
  if (timer.host !== undefined) out.host = timer.host;
  if (timer.label !== undefined) out.label = timer.label;
  return out;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
