/**
 * World edges: scheduling on a finished world, the timer trace switch, and a full event queue
 * surfacing as itself. (Each case kills a mutant `npm run mutate` found surviving: README.)
 */
import { describe, expect, it } from 'vitest';
import { SimError } from './errors.js';
import { RingSink } from './trace.js';
import { World } from './world.js';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof SimError ? e.code : String(e);
  }
};

describe('World: a finished world', () => {
  it('refuses post() after close() and after a failed run', async () => {
    const w = new World({ seed: 1 });
    w.post(1, () => undefined, undefined);
    await w.run();
    w.close();
    expect(codeOf(() => w.post(1, () => undefined, undefined))).toBe('ERR_WORLD_FINISHED');
    expect(codeOf(() => w.sleep(1))).toBe('ERR_WORLD_FINISHED');

    const f = new World({ seed: 1 });
    f.post(
      1,
      () => {
        throw new Error('boom');
      },
      undefined,
    );
    await expect(f.run()).rejects.toMatchObject({ code: 'ERR_EVENT_THREW' });
    expect(codeOf(() => f.post(0, () => undefined, undefined))).toBe('ERR_WORLD_FINISHED');
  });
});

describe('World: sinks are closed once', () => {
  it('a second close(), or close() after a failed run, does not close the sinks again', async () => {
    let closes = 0;
    const sink = { write: () => undefined, close: () => closes++ };
    const w = new World({ seed: 1, trace: { sinks: [sink] } });
    w.close();
    w.close();
    expect([w.state, closes]).toEqual(['closed', 1]);

    const f = new World({ seed: 1, trace: { sinks: [sink] } });
    f.post(
      1,
      () => {
        throw new Error('boom');
      },
      undefined,
    );
    await expect(f.run()).rejects.toMatchObject({ code: 'ERR_EVENT_THREW' });
    f.close();
    expect([f.state, closes]).toEqual(['failed', 2]);
  });
});

describe('World: timer events in the trace', () => {
  async function timerKinds(traceTimers: boolean | undefined): Promise<string[]> {
    const ring = new RingSink(100);
    const w = new World({
      seed: 1,
      trace: { sinks: [ring] },
      ...(traceTimers === undefined ? {} : { traceTimers }),
    });
    w.setTimer(5, () => undefined, { host: 'h', label: 'fires' });
    const cleared = w.setTimer(10, () => undefined, { host: 'h', label: 'cleared' });
    w.post(1, () => w.clearTimer(cleared), undefined);
    await w.run();
    return ring
      .events()
      .map((e) => `${e.kind}:${e.host}:${String((e as { label?: string }).label)}:${e.tUs}`);
  }

  it('records set, clear and fire by default, with host and label', async () => {
    expect(await timerKinds(undefined)).toEqual([
      'timer-set:h:fires:0',
      'timer-set:h:cleared:0',
      'timer-clear:h:cleared:1',
      'timer-fire:h:fires:5',
    ]);
  });

  it('gives an unlabelled, hostless timer no label or host field at all', async () => {
    const ring = new RingSink(100);
    const w = new World({ seed: 1, trace: { sinks: [ring] } });
    w.setTimer(5, () => undefined);
    await w.run();
    const events = ring.events().filter((e) => e.kind.startsWith('timer-'));
    expect(events.map((e) => e.kind)).toEqual(['timer-set', 'timer-fire']);
    for (const e of events) expect(['label' in e, 'host' in e]).toEqual([false, false]);
  });

  it('records none of them with traceTimers off', async () => {
    expect(await timerKinds(false)).toEqual([]);
  });
});

describe('World: a full event queue', () => {
  it('fails the run with ERR_QUEUE_FULL itself, not as an event that threw', async () => {
    const w = new World({ seed: 1, maxPendingEvents: 4 });
    w.post(
      1,
      () => {
        for (let i = 0; i < 10; i++) w.post(1, () => undefined, undefined);
      },
      undefined,
    );
    const err: unknown = await w.run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe('ERR_QUEUE_FULL');
    expect(w.state).toBe('failed');
  });

  it("an event's own error that merely carries that code is still ERR_EVENT_THREW", async () => {
    const w = new World({ seed: 1 });
    w.post(
      1,
      () => {
        throw Object.assign(new Error('not the queue'), { code: 'ERR_QUEUE_FULL' });
      },
      undefined,
    );
    await expect(w.run()).rejects.toMatchObject({ code: 'ERR_EVENT_THREW' });
  });
});

describe('World: run bounds at their edges', () => {
  it('maxEvents 0 runs nothing; an event exactly at untilUs runs; untilUs may be now', async () => {
    const w = new World({ seed: 1 });
    const ran: number[] = [];
    for (const t of [5, 10, 11]) w.post(t, () => ran.push(t), undefined);
    expect(await w.run({ maxEvents: 0 })).toMatchObject({ reason: 'event-limit', events: 0, nowUs: 0 });
    expect(await w.run({ untilUs: 0 })).toMatchObject({ reason: 'time-limit', events: 0, nowUs: 0 });
    expect(await w.run({ untilUs: 10 })).toMatchObject({ reason: 'time-limit', events: 2, nowUs: 10 });
    expect(ran).toEqual([5, 10]);
    expect(await w.run({ untilUs: 10, maxEvents: 1 })).toMatchObject({ events: 0, nowUs: 10 });
    expect(await w.run({ maxEvents: 1 })).toMatchObject({ reason: 'idle', events: 1, nowUs: 11 });
    expect(ran).toEqual([5, 10, 11]);
  });

  it('a queue bound of one event is allowed', async () => {
    const w = new World({ seed: 1, maxPendingEvents: 1 });
    let ran = false;
    w.post(1, () => (ran = true), undefined);
    await w.run();
    expect(ran).toBe(true);
  });
});

describe('World: timer handles', () => {
  it('every timer is pending until it fires or is cleared, the very first one included', async () => {
    const world = new World({ seed: 'timer-pending' });
    const first = world.setTimer(10, () => undefined);
    const second = world.setTimer(20, () => undefined);
    const cleared = world.setTimer(30, () => undefined);
    expect([first.pending, second.pending, cleared.pending]).toEqual([true, true, true]);
    world.clearTimer(cleared);
    expect(cleared.pending).toBe(false);
    await world.run({ untilUs: 15 });
    expect([first.pending, second.pending]).toEqual([false, true]);
    await world.run();
    expect(second.pending).toBe(false);
  });
});

describe('World: refused arguments', () => {
  const messageOf = async (fn: () => unknown): Promise<string> => {
    try {
      await fn();
      return 'ok';
    } catch (e) {
      return e instanceof SimError ? e.message : `${(e as Error).name}`;
    }
  };

  it('clearTimer of something that is no timer at all is a foreign timer', async () => {
    const w = new World({ seed: 1 });
    for (const handle of [null, undefined, {}, 5])
      expect(await messageOf(() => w.clearTimer(handle as never))).toBe(
        'ERR_FOREIGN_TIMER: clearTimer was given a handle that is not a timer of this world',
      );
  });

  it('run() refuses a fractional maxEvents and an untilUs in the past', async () => {
    const w = new World({ seed: 1 });
    expect(await messageOf(() => w.run({ maxEvents: 1.5 }))).toBe(
      'ERR_BAD_ARGUMENT: maxEvents must be an integer >= 0, got 1.5',
    );
    await w.run({ untilUs: 10 });
    expect(await messageOf(() => w.run({ untilUs: 5 }))).toBe(
      'ERR_BAD_DELAY: untilUs 5 is before the current time 10',
    );
    expect(w.nowUs).toBe(10);
    expect(await messageOf(() => w.run({ untilUs: 10 }))).toBe('ok');
  });
});

describe('World: modes', () => {
  it('strict mode lets promise continuations of setup code run before the first event', async () => {
    const order = async (mode: 'fast' | 'strict'): Promise<string[]> => {
      const w = new World({ seed: 1, mode });
      const log: string[] = [];
      void Promise.resolve().then(() => log.push('continuation'));
      w.post(0, () => log.push('event'), undefined);
      await w.run();
      return log;
    };
    expect(await order('strict')).toEqual(['continuation', 'event']);
    expect(await order('fast')).toEqual(['event', 'continuation']);
  });
});

describe('World: the order audit', () => {
  it('events at the same time, run in the order they were scheduled, are in order', async () => {
    const w = new World({ seed: 1 });
    for (let i = 0; i < 5; i++) w.post(7, () => undefined, undefined);
    w.post(3, () => undefined, undefined);
    await w.run();
    expect(w.eventAudit()).toMatchObject({ events: 6, outOfOrder: 0, first: null });
  });
});
