import { describe, expect, it } from 'vitest';
import { pairModel } from './pair.js';
import { LogBuilder, msg, word } from './testing.js';

const hop = (n: number): Uint8Array => word(n);
/** A PAIR1 frame as it arrives: hop count, then the body. */
function framed(hops: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + body.length);
  b.set(hop(hops));
  b.set(body, 4);
  return b;
}

describe('the PAIR model', () => {
  it('accepts one peer, sends in order, delivery in order', () => {
    const b = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .send(msg(0), (x) => x.out(1, msg(0)))
      .send(msg(1))
      .readyStep(1, (x) => x.out(1, msg(1)));
    expect(pairModel(b.run('pair0'))).toBeNull();
  });

  it('rejects a second peer while one is attached', () => {
    const b = new LogBuilder().attach(1).attach(2);
    expect(pairModel(b.run('pair0'))).toMatch(/one peer at a time/);
    expect(pairModel(new LogBuilder().attach(1).detach(1).attach(2).run('pair0'))).toBeNull();
  });

  it('judges polyamorous PAIR1 not at all', () => {
    const b = new LogBuilder().attach(1).attach(2);
    expect(pairModel(b.run('pair1', { options: { polyamorous: true } }))).toBeNull();
  });

  it('reads PAIR1 bodies behind the hop count, both ways', () => {
    const b = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .send(msg(0), (x) => x.out(1, msg(0), false, hop(1)))
      .in(1, framed(1, msg(5)))
      .recv(msg(5), 1);
    expect(pairModel(b.run('pair1', { app: 'echo' }))).toBeNull();
  });

  it('lets PAIR1 drop a frame whose hop count is above TTL, not one at TTL', () => {
    const over = new LogBuilder()
      .attach(1)
      .in(1, framed(9, msg(5)))
      .in(1, framed(8, msg(6)))
      .recv(msg(6), 1);
    expect(pairModel(over.run('pair1', { app: 'sink' }))).toBeNull();
    const at = new LogBuilder()
      .attach(1)
      .in(1, framed(8, msg(5)))
      .in(1, framed(1, msg(6)))
      .recv(msg(6), 1);
    expect(pairModel(at.run('pair1', { app: 'sink' }))).toMatch(/lost, duplicated, reordered or corrupted/);
  });

  it('rejects a message left waiting while the pipe is idle', () => {
    const b = new LogBuilder().attach(1).readyStep(1).send(msg(0));
    expect(pairModel(b.run('pair0'))).toMatch(/was idle/);
  });

  it('lets a raw PAIR1 send at TTL vanish', () => {
    const b = new LogBuilder().attach(1);
    b.send(msg(0), undefined, hop(8))
      .send(msg(1), undefined, hop(0))
      .readyStep(1, (x) => x.out(1, msg(1), false, hop(1)));
    expect(pairModel(b.run('xpair1', { app: 'device' }))).toBeNull();
  });
});

describe('the polyamorous PAIR1 model', () => {
  const poly = { options: { polyamorous: true } } as const;
  const named = { mayVanish: false, goneAtUs: null };
  /** Pipes 1 and 2 attached (1 first), both idle. */
  const two = (): LogBuilder => new LogBuilder().attach(1).readyStep(1).attach(2).readyStep(2);

  it('sends to the pipe a message names, else to the longest-attached one, with hop count 1', () => {
    const b = two()
      .send(msg(0), (x) => x.out(2, msg(0), true, hop(1)), undefined, named, 2)
      .send(msg(1), (x) => x.out(1, msg(1), true, hop(1)));
    expect(pairModel(b.run('pair1', poly))).toBeNull();
  });

  it('rejects a send to another pipe than the one named, or the first, and a wrong hop count', () => {
    const wrongPipe = two().send(msg(0), (x) => x.out(1, msg(0), true, hop(1)), undefined, named, 2);
    expect(pairModel(wrongPipe.run('pair1', poly))).toMatch(/not offered to that pipe/);
    const notFirst = two().send(msg(0), (x) => x.out(2, msg(0), true, hop(1)));
    expect(pairModel(notFirst.run('pair1', poly))).toMatch(/not offered to that pipe/);
    const hops = two().send(msg(0), (x) => x.out(1, msg(0), true, hop(2)));
    expect(pairModel(hops.run('pair1', poly))).toMatch(/a wrong hop count/);
  });

  it('drops a send naming a pipe that is gone, and delivers from every pipe in arrival order', () => {
    const gone = two()
      .detach(2)
      .send(msg(0), (x) => x.out(1, msg(0), true, hop(1)), undefined, named, 2);
    expect(pairModel(gone.run('pair1', poly))).toMatch(/not offered to that pipe/);
    const recv = two()
      .in(2, framed(1, msg(5)))
      .in(1, framed(1, msg(6)))
      .recv(msg(5), 2)
      .recv(msg(6), 1);
    expect(pairModel(recv.run('pair1', { ...poly, app: 'sink' }))).toBeNull();
  });
});
