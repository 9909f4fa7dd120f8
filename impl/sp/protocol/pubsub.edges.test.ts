/**
 * SUB's note when its receive queue is full names what it dropped: the oldest message (PREFER-NEW,
 * the default), or the new one (PREFER-NEW false, or READQ-LEN 0: nothing queued to drop instead).
 * (Seed-2 mutation survivors pubsub.ts:310.)
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import { lab, text } from '../testing/sim-lab.js';
import { openPub0, openSub0, openXSub0, sub0Stats } from './pubsub.js';

const MS = 1000;

async function fullQueueNotes(
  seed: string,
  options: Record<string, unknown>,
  raw = false,
): Promise<string[]> {
  const { a, b, world, drive } = lab(seed);
  const ring = new RingSink(10_000);
  world.trace.addSink(ring);
  await drive(async () => {
    const pub = openPub0(a);
    const sub = (raw ? openXSub0 : openSub0)(b, {
      options: { ...(raw ? {} : { SUBSCRIBE: text('') }), ...options },
    });
    await pub.listen('tcp://a:5555');
    await sub.dial('tcp://a:5555');
    await a.sleep(1 * MS);
    for (let i = 1; i <= 3; i++) await pub.send(text(`m${i}`));
    await b.sleep(20 * MS);
  });
  return ring
    .events()
    .filter((e) => e.kind === 'note')
    .map((e) => String((e as { text?: string }).text))
    .filter((t) => t.includes('receive queue full'));
}

describe('SUB full-queue note', () => {
  it('PREFER-NEW (default), READQ-LEN 1: drops the oldest', async () => {
    expect(await fullQueueNotes('sub-full-oldest', { 'READQ-LEN': 1 })).toEqual([
      'sp sub0: receive queue full, dropped the oldest message',
      'sp sub0: receive queue full, dropped the oldest message',
    ]);
  });

  it('PREFER-NEW false: drops the new message', async () => {
    expect(await fullQueueNotes('sub-full-new', { 'READQ-LEN': 1, 'PREFER-NEW': false })).toEqual([
      'sp sub0: receive queue full, dropped the new message',
      'sp sub0: receive queue full, dropped the new message',
    ]);
  });

  it('READQ-LEN 0 with PREFER-NEW: nothing is queued, so the new message is the one dropped', async () => {
    expect(await fullQueueNotes('sub-full-zero', { 'READQ-LEN': 0 })).toEqual(
      Array(3).fill('sp sub0: receive queue full, dropped the new message'),
    );
  });

  it('XSUB names itself', async () => {
    expect(await fullQueueNotes('xsub-full', { 'READQ-LEN': 1 }, true)).toEqual([
      'sp xsub0: receive queue full, dropped the oldest message',
      'sp xsub0: receive queue full, dropped the oldest message',
    ]);
  });
});

describe('SUB receive deadline', () => {
  it('a recv answered by a message clears its RECV-DEADLINE timer', async () => {
    const { a, b, world, drive } = lab('sub-recv-deadline-cleared');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const got = await drive(async () => {
      const pub = openPub0(a);
      const sub = openSub0(b, { options: { SUBSCRIBE: text(''), 'RECV-DEADLINE': 100 * MS } });
      await pub.listen('tcp://a:5555');
      await sub.dial('tcp://a:5555');
      await a.sleep(1 * MS);
      const recv = sub.recv(); // waits: nothing sent yet
      await pub.send(text('m'));
      const msg = await recv;
      await b.sleep(200 * MS); // past the deadline
      return new TextDecoder().decode(msg);
    });
    expect(got).toBe('m');
    const deadline = ring
      .events()
      .filter((e) => (e as { label?: string }).label === 'sp-recv-deadline')
      .map((e) => e.kind);
    expect(deadline).toEqual(['timer-set', 'timer-clear']);
  });
});

/**
 * PUB's note when a pipe's queue is full names what it dropped (seed-5 survivor pubsub.ts:136), and
 * SUB counts every message it receives, matched or filtered (seed-5 survivor pubsub.ts:274).
 */
async function pubFullNotes(seed: string, preferNew: boolean): Promise<string[]> {
  const { a, b, net, world, drive } = lab(seed, { conn: { sendBufferBytes: 1024, recvBufferBytes: 1024 } });
  const ring = new RingSink(10_000);
  world.trace.addSink(ring);
  await drive(async () => {
    const pub = openPub0(a, { options: { 'WRITEQ-LEN': 1, 'PREFER-NEW': preferNew } });
    const sub = openSub0(b, { options: { SUBSCRIBE: text('') } });
    await pub.listen('tcp://a:5555');
    await sub.dial('tcp://a:5555');
    await b.sleep(10 * MS);
    net.setReadStall(net.connections()[0]!.id, 'client', true);
    for (let i = 0; i < 12; i++) await pub.send(new Uint8Array(400));
  });
  return ring
    .events()
    .filter((e) => e.kind === 'note')
    .map((e) => String((e as { text?: string }).text))
    .filter((t) => t.includes('queue full'));
}

describe('PUB full-queue note', () => {
  it('PREFER-NEW: drops the oldest queued message', async () => {
    const notes = await pubFullNotes('pub-full-oldest', true);
    expect(notes.length).toBeGreaterThan(0);
    for (const n of notes) expect(n).toMatch(/^sp pub0: pipe \d+ queue full, dropped the oldest message$/);
  });

  it('PREFER-NEW false: drops the new message', async () => {
    const notes = await pubFullNotes('pub-full-new', false);
    expect(notes.length).toBeGreaterThan(0);
    for (const n of notes) expect(n).toMatch(/^sp pub0: pipe \d+ queue full, dropped the new message$/);
  });
});

describe('SUB stats', () => {
  it('received counts every message from a publisher, filtered ones included', async () => {
    const { a, b, drive } = lab('sub-stats-received');
    const stats = await drive(async () => {
      const pub = openPub0(a);
      const sub = openSub0(b, { options: { SUBSCRIBE: text('a') } });
      await pub.listen('tcp://a:5555');
      await sub.dial('tcp://a:5555');
      await b.sleep(10 * MS);
      for (const t of ['a1', 'b1', 'a2']) await pub.send(text(t));
      await b.sleep(10 * MS);
      return { ...sub0Stats(sub)! };
    });
    expect(stats.received).toBe(3);
    expect(stats.filtered).toBe(1);
  });
});
