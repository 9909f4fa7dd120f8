/**
 * PipeQueues (bus.ts), the per-pipe send queues of BUS, STAR and polyamorous PAIR1, on its own:
 * an offer to a pipe it does not know is refused and not counted as a dropped send. (Kills a
 * mutant `npm run mutate` found never reached: README.)
 */
import { describe, expect, it } from 'vitest';
import { newMessage } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import { lab, text } from '../testing/sim-lab.js';
import { openBus0, PipeQueues, type FanoutStats } from './bus.js';

describe('PipeQueues.offer', () => {
  it('refuses a pipe it does not know, without counting a drop', () => {
    const { a } = lab('pipe-queues');
    const stats: FanoutStats = { droppedSends: 0, maxQueued: 0 };
    const queues = new PipeQueues(openBus0(a), stats);
    const sent: unknown[] = [];
    const stranger = { id: 99, ready: true, send: (m: unknown) => sent.push(m) > 0 } as unknown as Pipe;
    expect(queues.has(stranger)).toBe(false);
    queues.offer(stranger, newMessage(text('x')));
    expect(sent).toEqual([]);
    expect(stats).toEqual({ droppedSends: 0, maxQueued: 0 });
  });
});
