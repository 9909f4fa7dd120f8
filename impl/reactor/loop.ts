/**
 * Event loops and their group: netpoll's pollers, as virtual CPUs.
 *
 * A loop runs one task at a time (a handler invocation, a socket write the reactor makes for a
 * connection of that loop). A task may charge the loop CPU time (`charge(us)`, or the group's
 * costUsPerRequest per onRequest): the loop is then busy until that much time has passed on the
 * runtime's clock, and its next tasks, including the writes that carry the handler's output, wait.
 * A busy loop delays only its own connections, so the number of loops and the balancing policy
 * change measured latency. On the simulator the time is virtual. On real sockets all loops share
 * Node's one thread: they are partitions of it, and a charge is emulated by the same timers, not
 * by burning CPU.
 *
 * Bounds: a loop's task queue holds at most two tasks per connection of the loop (a handler run and
 * an output pump, each deduplicated by the connection), so it is bounded by the connections the
 * server admits (maxConnections). The group's handler queue is bounded the same way: a connection
 * waits with at most one invocation.
 */
import type { Env, TimerHandle } from '../runtime/env.js';
import type { LoadBalance, ResolvedReactorOptions } from './options.js';
import { PagePool } from './pages.js';

/**
 * Tells the simulator that this event started promise work (a handler, an async function whose
 * continuations may be native promises it cannot see), so they all run before its next event: a
 * deferred settled through the runtime marks the event dirty (sim/world.ts). Real sockets need
 * nothing: Node runs every continuation before its next I/O callback anyway.
 */
export function markPromiseWork(env: Env): void {
  if (env.runtime === 'sim') env.defer<void>().resolve(undefined);
}

/** One loop: a FIFO of tasks run one at a time, and the virtual CPU time charged to it. */
export class EventLoop {
  /** Connections assigned to this loop and still open. */
  connections = 0;
  /** Connections ever assigned to this loop. */
  assigned = 0;
  /** Tasks run so far. */
  tasksRun = 0;
  /** CPU time charged so far, µs. */
  chargedUs = 0;
  /** The deepest the task queue has been. */
  maxQueueDepth = 0;
  /** The longest a task waited for the loop, µs: what a busy loop costs its connections. */
  maxWaitUs = 0;
  private busyUntilUs = 0;
  private readonly queue: { run: () => void; queuedAtUs: number }[] = [];
  private queueHead = 0;
  private wakeTimer: TimerHandle | undefined;

  constructor(
    readonly index: number,
    private readonly env: Env,
  ) {}

  /** True while charged CPU time has not yet passed, or a task is waiting. */
  get busy(): boolean {
    if (this.queueHead < this.queue.length) return true;
    // A loop never charged reads no clock: run() is on every message's path, twice.
    return this.chargedUs > 0 && this.busyUntilUs > this.env.nowUs();
  }

  /** Tasks waiting for the loop. */
  get queueDepth(): number {
    return this.queue.length - this.queueHead;
  }

  /** Makes the loop busy for `us` more microseconds of CPU time, from now or from its current busy end. */
  charge(us: number): void {
    if (!(us > 0)) return;
    this.busyUntilUs = Math.max(this.busyUntilUs, this.env.nowUs()) + us;
    this.chargedUs += us;
  }

  /**
   * Runs `task` now when no charged time is pending and nothing is queued (inline, also from inside
   * another task of this loop: a handler's flush writes in the caller, as netpoll's does), else
   * after the tasks queued before it, once the charged time has passed.
   */
  run(task: () => void): void {
    if (!this.busy) {
      this.tasksRun++;
      task();
      return;
    }
    this.queue.push({ run: task, queuedAtUs: this.env.nowUs() });
    const depth = this.queueDepth;
    if (depth > this.maxQueueDepth) this.maxQueueDepth = depth;
    this.armWake();
  }

  private armWake(): void {
    if (this.wakeTimer?.pending === true) return;
    const delayUs = Math.max(0, this.busyUntilUs - this.env.nowUs());
    this.wakeTimer = this.env.setTimer(delayUs, () => this.drain(), `reactor loop ${this.index}`);
  }

  /** Runs queued tasks while the loop is free; re-arms when a task charged time. */
  private drain(): void {
    while (this.queueHead < this.queue.length) {
      if (this.busyUntilUs > this.env.nowUs()) {
        this.armWake();
        return;
      }
      const item = this.queue[this.queueHead]!;
      this.queueHead++;
      const waitedUs = this.env.nowUs() - item.queuedAtUs;
      if (waitedUs > this.maxWaitUs) this.maxWaitUs = waitedUs;
      this.tasksRun++;
      item.run();
    }
    this.queue.length = 0;
    this.queueHead = 0;
  }
}

/** What a group's loops and handler pool did: for traces, the lab's checks and bench output. */
export interface LoopGroupStats {
  /** Per loop: connections assigned ever, open now, tasks run, CPU charged (µs), worst task wait (µs). */
  loops: { assigned: number; open: number; tasksRun: number; chargedUs: number; maxWaitUs: number }[];
  /** Handler invocations (onConnect, onRequest) started. */
  handlersStarted: number;
  /** The most handler invocations running at once. */
  maxConcurrentHandlers: number;
  /** Invocations that had to wait because maxConcurrentHandlers were running. */
  handlersQueued: number;
  writeInterestRegistrations: number;
  callbackErrors: number;
}

/**
 * N loops, the policy that assigns each new connection to one, the pages their connections share,
 * and the bounded pool handler invocations run on (gopool has no bound; this one has
 * maxConcurrentHandlers).
 */
export class LoopGroup {
  readonly loops: readonly EventLoop[];
  readonly pages: PagePool;
  private roundRobinNext = 0;
  private readonly random;
  private running = 0;
  private readonly waiting: (() => Promise<void> | undefined)[] = [];
  private waitingHead = 0;
  /** True while endHandler hands freed slots to waiting invocations. */
  private handingOut = false;
  handlersStarted = 0;
  maxConcurrentHandlersSeen = 0;
  handlersQueued = 0;
  /** Write-interest registrations of all the group's connections (bench: per message). */
  writeInterestRegistrations = 0;
  /** onDisconnect or close callbacks that threw (traced; the connection still closed). */
  callbackErrors = 0;

  constructor(
    readonly env: Env,
    readonly options: ResolvedReactorOptions,
  ) {
    this.loops = Array.from({ length: options.loops }, (_, i) => new EventLoop(i, env));
    this.pages = new PagePool({
      pageBytes: options.pageBytes,
      maxPooledPages: options.maxPooledPages,
      poison: options.checking,
    });
    this.random = env.random('reactor/load-balance');
  }

  /** Picks the loop of a new connection by the group's policy and counts it there. */
  assign(): EventLoop {
    const loop = this.pick(this.options.loadBalance);
    loop.assigned++;
    loop.connections++;
    return loop;
  }

  /** A connection of `loop` closed. */
  release(loop: EventLoop): void {
    loop.connections--;
  }

  private pick(policy: LoadBalance): EventLoop {
    const n = this.loops.length;
    switch (policy) {
      case 'round-robin': {
        const loop = this.loops[this.roundRobinNext]!;
        this.roundRobinNext = (this.roundRobinNext + 1) % n;
        return loop;
      }
      case 'random':
        return this.loops[this.random.int(0, n - 1)]!;
      case 'least-connections': {
        // Ties go to the lowest index, so the choice is deterministic without a random draw.
        let best = this.loops[0]!;
        for (const loop of this.loops) if (loop.connections < best.connections) best = loop;
        return best;
      }
    }
  }

  /**
   * Starts `invoke` on the handler pool: now when fewer than maxConcurrentHandlers run, else when
   * one ends (FIFO). `invoke` returns the invocation's promise, which must never reject (the
   * connection catches its handler's errors), or undefined when it already ended synchronously; its
   * end frees the slot.
   */
  startHandler(invoke: () => Promise<void> | undefined): void {
    if (this.running < this.options.maxConcurrentHandlers) this.begin(invoke);
    else {
      this.handlersQueued++;
      this.waiting.push(invoke);
    }
  }

  private begin(invoke: () => Promise<void> | undefined): void {
    this.running++;
    this.handlersStarted++;
    if (this.running > this.maxConcurrentHandlersSeen) this.maxConcurrentHandlersSeen = this.running;
    markPromiseWork(this.env);
    const pending = invoke();
    if (pending === undefined) this.endHandler();
    else pending.then(this.endHandler, this.endHandler);
  }

  /** One invocation ended: its slot goes to the oldest waiting one. Made once: no closure per call. */
  private readonly endHandler = (): void => {
    this.running--;
    // Invocations that end synchronously call back in here from begin(): the outermost call hands
    // the slots out in a loop, so a long queue of them does not grow the stack.
    if (this.handingOut) return;
    this.handingOut = true;
    while (this.running < this.options.maxConcurrentHandlers) {
      const next = this.waiting[this.waitingHead];
      if (next === undefined) break;
      this.waitingHead++;
      if (this.waitingHead === this.waiting.length) {
        this.waiting.length = 0;
        this.waitingHead = 0;
      }
      this.begin(next);
    }
    this.handingOut = false;
  };

  stats(): LoopGroupStats {
    return {
      loops: this.loops.map((l) => ({
        assigned: l.assigned,
        open: l.connections,
        tasksRun: l.tasksRun,
        chargedUs: l.chargedUs,
        maxWaitUs: l.maxWaitUs,
      })),
      handlersStarted: this.handlersStarted,
      maxConcurrentHandlers: this.maxConcurrentHandlersSeen,
      handlersQueued: this.handlersQueued,
      writeInterestRegistrations: this.writeInterestRegistrations,
      callbackErrors: this.callbackErrors,
    };
  }
}
