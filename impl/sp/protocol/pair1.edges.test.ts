/**
 * PAIR1's trace notes, emitted only when tracing, that say why a frame or a send was dropped
 * (seed-5 survivor pair1.ts:180: the note helper emptied went unnoticed), with the stats they go with.
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import { rawPeer, word } from '../testing/raw-peer.js';
import { lab, text } from '../testing/sim-lab.js';
import { openPair1, openXPair1, pair1Stats } from './pair1.js';

const MS = 1000;
const PAIR1 = 0x11;

function notes(ring: RingSink): string[] {
  return ring
    .events()
    .filter((e) => e.kind === 'note')
    .map((e) => String((e as { text?: string }).text))
    .filter((t) => t.startsWith('sp pair1:'));
}

describe('PAIR1 notes', () => {
  it('a frame without a hop count, and one with a hop count above TTL', async () => {
    const { a, b, world, drive } = lab('pair1-notes-recv');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const stats = await drive(async () => {
      const s = openPair1(a, { options: { TTL: 8 } });
      await s.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', PAIR1);
      await a.sleep(1 * MS);
      peer.sendFrame(Uint8Array.of(1, 2));
      peer.sendFrame(word(9, 'x'));
      await a.sleep(10 * MS);
      return { ...pair1Stats(s)! };
    });
    expect(stats.droppedGarbage).toBe(1);
    expect(stats.droppedTtl).toBe(1);
    const n = notes(ring);
    expect(n).toHaveLength(2);
    expect(n[0]).toMatch(/^sp pair1: dropped a frame without a hop count from pipe \d+$/);
    expect(n[1]).toBe('sp pair1: dropped a message with hop count 9 (TTL 8)');
  });

  it('a raw send whose header is not a hop count below TTL, and a poly send with no pipe', async () => {
    const { a, world, drive } = lab('pair1-notes-send');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const raw = openXPair1(a);
      await raw.sendMsg({ header: Uint8Array.of(0, 0), body: text('x') });
      const poly = openPair1(a, { options: { POLYAMOROUS: true } });
      await poly.listen('tcp://a:5555');
      await poly.send(text('y'));
      await a.sleep(1 * MS);
    });
    expect(notes(ring)).toEqual([
      'sp pair1: discarded a raw send (header 2 bytes, not a hop count below TTL)',
      'sp pair1: dropped a send for no pipe',
    ]);
  });
});
