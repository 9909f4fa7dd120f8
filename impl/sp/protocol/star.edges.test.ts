/**
 * STAR's trace notes, emitted only when tracing, that say why a message was dropped, with the
 * stats they go with (the same kind as seed-5 survivor pair1.ts:180: no test read these notes).
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import { rawPeer, word } from '../testing/raw-peer.js';
import { lab } from '../testing/sim-lab.js';
import { openStar, starStats } from './star.js';

const MS = 1000;
const STAR = 1600;

describe('STAR notes', () => {
  it('a message without a hop count, and one at hop TTL', async () => {
    const { a, b, world, drive } = lab('star-notes');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const stats = await drive(async () => {
      const s = openStar(a, { options: { TTL: 8 } });
      await s.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', STAR);
      await a.sleep(1 * MS);
      peer.sendFrame(Uint8Array.of(1, 2));
      peer.sendFrame(word(8, 'x'));
      await a.sleep(10 * MS);
      return { ...starStats(s)! };
    });
    expect(stats.droppedGarbage).toBe(1);
    expect(stats.droppedTtl).toBe(1);
    const notes = ring
      .events()
      .filter((e) => e.kind === 'note')
      .map((e) => String((e as { text?: string }).text))
      .filter((t) => t.startsWith('sp star:'));
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^sp star: dropped a message without a hop count from pipe \d+$/);
    expect(notes[1]).toBe('sp star: dropped a message at hop 8 (TTL 8)');
  });
});
