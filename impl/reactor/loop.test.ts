/**
 * The event loop as a virtual CPU and the loop group, driven directly on the simulator's clock:
 * a task runs inline on a free loop and waits, in order, behind charged time and earlier tasks; the
 * figures a loop reports (tasks run, CPU charged, deepest queue, worst wait); the balancing policies;
 * the bounded handler pool (first come, first served; its counters).
 */
import { describe, expect, it } from 'vitest';
import type { Env, TimerHandle } from '../runtime/env.js';
import { ForwardingEnv } from '../runtime/env.js';
import { EventLoop, LoopGroup } from './loop.js';
import { resolveReactorOptions, type ReactorOptions } from './options.js';
import { reactorLab, type ReactorLab } from './testing/sim-lab.js';

/** Counts the timers set and cleared through it. */
class TimerCountingEnv extends ForwardingEnv {
  set = 0;
  cleared = 0;
  labels: string[] = [];
  override setTimer(delayUs: number, fn: () => void, label?: string): TimerHandle {
    this.set++;
    this.labels.push(label ?? '');
    return super.setTimer(delayUs, fn, label);
  }
  override clearTimer(timer: TimerHandle): void {
    this.cleared++;
    super.clearTimer(timer);
  }
}

function loopOn(seed: string): { lab: ReactorLab; env: TimerCountingEnv; loop: EventLoop } {
  const lab = reactorLab(seed);
  const env = new TimerCountingEnv(lab.server);
  return { lab, env, loop: new EventLoop(3, env) };
}

/**
 * Advances the world to exactly `us` of virtual time. A loop that re-armed its wake timer without
 * letting time pass would spin at one instant: the event bound makes that a quick failure.
 */
async function at(lab: ReactorLab, us: number): Promise<void> {
  const r = await lab.world.run({ untilUs: us, maxEvents: 10_000 });
  expect(r.reason).not.toBe('event-limit');
}

function group(env: Env, options: ReactorOptions): LoopGroup {
  return new LoopGroup(env, resolveReactorOptions(options));
}

describe('EventLoop', () => {
  it('runs a task inline when free, at time zero too, and counts it', () => {
    const { env, loop } = loopOn('inline');
    const ran: string[] = [];
    expect(env.nowUs()).toBe(0);
    expect(loop.busy).toBe(false);
    loop.run(() => ran.push('a'));
    expect(ran).toEqual(['a']);
    expect(loop.tasksRun).toBe(1);
    expect(loop.queueDepth).toBe(0);
    expect(loop.maxQueueDepth).toBe(0);
    expect(env.set).toBe(0); // nothing to wake for
  });

  it('a charge keeps the loop busy exactly that long; tasks meanwhile wait, in order, and report their wait', async () => {
    const { lab, env, loop } = loopOn('charged');
    const ran: [string, number][] = [];
    loop.charge(300);
    expect(loop.chargedUs).toBe(300);
    expect(loop.busy).toBe(true);
    loop.run(() => ran.push(['a', env.nowUs()]));
    await at(lab, 100);
    loop.run(() => ran.push(['b', env.nowUs()]));
    loop.run(() => ran.push(['c', env.nowUs()]));
    expect(loop.queueDepth).toBe(3);
    expect(loop.maxQueueDepth).toBe(3);
    expect(loop.tasksRun).toBe(0);
    expect(env.set).toBe(1); // one wake timer for all of them
    expect(env.labels).toEqual(['reactor loop 3']);
    await at(lab, 299);
    expect(ran).toEqual([]);
    expect(loop.busy).toBe(true);
    await at(lab, 300);
    expect(ran).toEqual([
      ['a', 300],
      ['b', 300],
      ['c', 300],
    ]);
    expect(loop.tasksRun).toBe(3);
    expect(loop.queueDepth).toBe(0);
    expect(loop.maxQueueDepth).toBe(3);
    expect(loop.maxWaitUs).toBe(300); // a's wait; b and c waited 200
    expect(loop.busy).toBe(false);
    // Free again: the next task runs inline.
    loop.run(() => ran.push(['d', env.nowUs()]));
    expect(ran.at(-1)).toEqual(['d', 300]);
    expect(loop.tasksRun).toBe(4);
  });

  it('the worst wait is the longest one, not the last one', async () => {
    const { lab, loop } = loopOn('worst-wait');
    loop.charge(500);
    loop.run(() => undefined); // waits 500
    await at(lab, 600);
    loop.charge(100);
    loop.run(() => undefined); // waits 100
    await at(lab, 800);
    expect(loop.tasksRun).toBe(2);
    expect(loop.maxWaitUs).toBe(500);
  });

  it('the deepest queue is the most waiting at once, not the last count', async () => {
    const { lab, loop } = loopOn('deepest');
    loop.charge(10);
    loop.run(() => undefined);
    loop.run(() => undefined);
    await at(lab, 20);
    loop.charge(10);
    loop.run(() => undefined);
    expect(loop.queueDepth).toBe(1);
    expect(loop.maxQueueDepth).toBe(2);
    await at(lab, 40);
    expect(loop.queueDepth).toBe(0);
    expect(loop.maxQueueDepth).toBe(2);
  });

  it('a task queued while the loop drains goes after the tasks already waiting', async () => {
    const { lab, loop } = loopOn('queued-in-drain');
    const ran: string[] = [];
    loop.charge(50);
    loop.run(() => {
      ran.push('a');
      loop.run(() => ran.push('c'));
    });
    loop.run(() => ran.push('b'));
    await at(lab, 100);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(loop.tasksRun).toBe(3);
  });

  it('a task that charges time holds back the tasks behind it until that time has passed', async () => {
    const { lab, env, loop } = loopOn('charge-in-drain');
    const ran: [string, number][] = [];
    loop.charge(100);
    loop.run(() => {
      ran.push(['a', env.nowUs()]);
      loop.charge(250);
    });
    loop.run(() => ran.push(['b', env.nowUs()]));
    await at(lab, 349);
    expect(ran).toEqual([['a', 100]]);
    expect(loop.queueDepth).toBe(1);
    await at(lab, 1000);
    expect(ran).toEqual([
      ['a', 100],
      ['b', 350],
    ]);
    expect(loop.maxWaitUs).toBe(350);
    expect(loop.chargedUs).toBe(350);
    expect(env.set).toBe(2); // re-armed once for the second charge
  });

  it('charges add up from the current busy end; a charge after a pause starts from now', async () => {
    const { lab, env, loop } = loopOn('charge-sum');
    loop.charge(100);
    loop.charge(50);
    await at(lab, 149);
    expect(loop.busy).toBe(true);
    await at(lab, 150);
    expect(loop.busy).toBe(false);
    await at(lab, 1000);
    loop.charge(100);
    expect(loop.chargedUs).toBe(250);
    const ran: number[] = [];
    loop.run(() => ran.push(env.nowUs()));
    await at(lab, 1099);
    expect(ran).toEqual([]);
    await at(lab, 2000);
    expect(ran).toEqual([1100]);
  });

  it('ignores a charge of zero, a negative charge and NaN', async () => {
    const { lab, loop } = loopOn('charge-none');
    await at(lab, 100);
    loop.charge(0);
    loop.charge(-40);
    loop.charge(Number.NaN);
    expect(loop.chargedUs).toBe(0);
    expect(loop.busy).toBe(false);
    loop.charge(30);
    loop.charge(-20);
    expect(loop.chargedUs).toBe(30);
    const ran: number[] = [];
    loop.run(() => ran.push(lab.server.nowUs()));
    await at(lab, 1000);
    expect(ran).toEqual([130]);
  });
});

describe('LoopGroup: balancing', () => {
  it('round-robin takes the loops in turn and counts assignments and open connections per loop', () => {
    const { server } = reactorLab('rr');
    const g = group(server, { loops: 3 });
    expect(g.loops.map((l) => l.index)).toEqual([0, 1, 2]);
    const picks = Array.from({ length: 7 }, () => g.assign().index);
    expect(picks).toEqual([0, 1, 2, 0, 1, 2, 0]);
    g.release(g.loops[0]!);
    const stats = g.stats().loops;
    expect(stats.map((l) => l.assigned)).toEqual([3, 2, 2]);
    expect(stats.map((l) => l.open)).toEqual([2, 2, 2]);
  });

  it('least-connections takes the emptiest loop, the lowest index on a tie', () => {
    const { server } = reactorLab('least');
    const g = group(server, { loops: 3, loadBalance: 'least-connections' });
    expect([g.assign().index, g.assign().index, g.assign().index]).toEqual([0, 1, 2]);
    g.release(g.loops[1]!);
    expect(g.assign().index).toBe(1);
    g.release(g.loops[2]!);
    g.release(g.loops[0]!);
    expect(g.assign().index).toBe(0);
    expect(g.assign().index).toBe(2);
    expect(g.assign().index).toBe(0);
  });

  it('random picks every loop in range, deterministically from the seed', () => {
    const picks = (seed: string): number[] => {
      const { server } = reactorLab(seed);
      const g = group(server, { loops: 3, loadBalance: 'random' });
      return Array.from({ length: 60 }, () => g.assign().index);
    };
    const a = picks('random-a');
    expect(new Set(a)).toEqual(new Set([0, 1, 2]));
    expect(picks('random-a')).toEqual(a);
    // Not a fixed cycle: another seed draws another sequence.
    expect(picks('random-b')).not.toEqual(a);
  });

  it('one loop takes every connection whatever the policy', () => {
    const { server } = reactorLab('one');
    for (const loadBalance of ['round-robin', 'random', 'least-connections'] as const) {
      const g = group(server, { loadBalance });
      expect([g.assign().index, g.assign().index, g.assign().index]).toEqual([0, 0, 0]);
    }
  });

  it('shares one page pool sized by the options', () => {
    const { server } = reactorLab('pool');
    const checking = group(server, { pageBytes: 256, checking: true });
    expect(checking.pages.pageBytes).toBe(256);
    expect(checking.pages.poison).toBe(true);
    const g = group(server, { pageBytes: 128, maxPooledPages: 2 });
    expect(g.pages.poison).toBe(false);
    const pages = [g.pages.take(), g.pages.take(), g.pages.take()];
    expect(pages.map((p) => p.length)).toEqual([128, 128, 128]);
    for (const p of pages) g.pages.give(p);
    expect(g.pages.stats.pooledPages).toBe(2);
    expect(g.pages.stats.droppedPages).toBe(1);
  });
});

describe('LoopGroup: the handler pool', () => {
  it('starts invocations at once below the bound, queues the rest first come first served, and counts both', async () => {
    const lab = reactorLab('pool-fifo');
    const g = group(lab.server, { maxConcurrentHandlers: 2 });
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    const invocation = (name: string) => (): Promise<void> => {
      started.push(name);
      const d = lab.server.defer<void>();
      finish.set(name, () => d.resolve(undefined));
      return d.promise;
    };
    for (const name of ['a', 'b', 'c', 'd', 'e']) g.startHandler(invocation(name));
    expect(started).toEqual(['a', 'b']);
    expect(g.stats().handlersStarted).toBe(2);
    expect(g.stats().handlersQueued).toBe(3);
    expect(g.stats().maxConcurrentHandlers).toBe(2);
    finish.get('b')!();
    await lab.advance(10);
    expect(started).toEqual(['a', 'b', 'c']);
    finish.get('a')!();
    finish.get('c')!();
    await lab.advance(10);
    expect(started).toEqual(['a', 'b', 'c', 'd', 'e']);
    finish.get('d')!();
    finish.get('e')!();
    await lab.advance(10);
    // The queue emptied: a new one starts at once, and the pool works on after its queue was reset.
    g.startHandler(invocation('f'));
    g.startHandler(invocation('g'));
    g.startHandler(invocation('h'));
    expect(started.slice(5)).toEqual(['f', 'g']);
    finish.get('f')!();
    await lab.advance(10);
    expect(started.slice(5)).toEqual(['f', 'g', 'h']);
    const stats = g.stats();
    expect(stats.handlersStarted).toBe(8);
    expect(stats.handlersQueued).toBe(4);
    expect(stats.maxConcurrentHandlers).toBe(2);
  });

  it('a rejected invocation frees its slot too', async () => {
    const lab = reactorLab('pool-reject');
    const g = group(lab.server, { maxConcurrentHandlers: 1 });
    const started: string[] = [];
    g.startHandler(() => {
      started.push('a');
      return Promise.reject(new Error('x'));
    });
    g.startHandler(() => {
      started.push('b');
      return Promise.resolve();
    });
    expect(started).toEqual(['a']);
    await lab.advance(10);
    expect(started).toEqual(['a', 'b']);
  });

  it('reports the most invocations at once, which later, smaller bursts do not lower', async () => {
    const lab = reactorLab('pool-most');
    const g = group(lab.server, {});
    const ends: (() => void)[] = [];
    const hold = (): Promise<void> => {
      const d = lab.server.defer<void>();
      ends.push(() => d.resolve(undefined));
      return d.promise;
    };
    expect(g.stats().maxConcurrentHandlers).toBe(0);
    g.startHandler(hold);
    g.startHandler(hold);
    g.startHandler(hold);
    for (const end of ends.splice(0)) end();
    await lab.advance(10);
    g.startHandler(hold);
    expect(g.stats().maxConcurrentHandlers).toBe(3);
    expect(g.stats().handlersStarted).toBe(4);
    expect(g.stats().handlersQueued).toBe(0);
  });

  it('starts with zeroed counters', () => {
    const { server } = reactorLab('zero');
    expect(group(server, { loops: 2 }).stats()).toEqual({
      loops: [
        { assigned: 0, open: 0, tasksRun: 0, chargedUs: 0, maxWaitUs: 0 },
        { assigned: 0, open: 0, tasksRun: 0, chargedUs: 0, maxWaitUs: 0 },
      ],
      handlersStarted: 0,
      maxConcurrentHandlers: 0,
      handlersQueued: 0,
      writeInterestRegistrations: 0,
      callbackErrors: 0,
    });
  });
});
