import { describe, expect, it } from 'vitest';
import { busModel, pubModel, starModel, subModel } from './fanout.js';
import { LogBuilder, msg, word } from './testing.js';

describe('the PUB model', () => {
  it('accepts every message to every attached pipe, queued while busy', () => {
    const b = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .attach(2)
      .readyStep(2)
      .send(msg(0), (x) => x.out(1, msg(0)).out(2, msg(0), true))
      .send(msg(1), (x) => x.out(2, msg(1), true))
      .readyStep(1, (x) => x.out(1, msg(1), true));
    expect(pubModel(b.run('pub0'))).toBeNull();
  });

  it('accepts a loss at a full queue (either the oldest or the new one)', () => {
    const base = (): LogBuilder =>
      new LogBuilder()
        .attach(1)
        .readyStep(1)
        .send(msg(0), (x) => x.out(1, msg(0)))
        .send(msg(1))
        .send(msg(2))
        .send(msg(3));
    const dropOld = base().readyStep(1, (x) => x.out(1, msg(2), true).out(1, msg(3), true));
    expect(pubModel(dropOld.run('pub0', { options: { writeQ: 2 } }))).toBeNull();
    const dropNew = base().readyStep(1, (x) => x.out(1, msg(1), true).out(1, msg(2), true));
    expect(pubModel(dropNew.run('pub0', { options: { writeQ: 2 } }))).toBeNull();
  });

  it('rejects a loss while the queue had room', () => {
    const b = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .send(msg(0), (x) => x.out(1, msg(0)))
      .send(msg(1))
      .send(msg(2))
      .readyStep(1, (x) => x.out(1, msg(2), true));
    expect(pubModel(b.run('pub0', { options: { writeQ: 4 } }))).toMatch(/not full/);
  });

  it('rejects a subscriber left idle with messages queued for it', () => {
    const b = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .attach(2)
      .readyStep(2)
      .send(msg(0), (x) => x.out(1, msg(0), true));
    expect(pubModel(b.run('pub0'))).toMatch(/pipe 2 was idle/);
  });

  it('rejects a message sent twice on one pipe', () => {
    const b = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .send(msg(0), (x) => x.out(1, msg(0), true).out(1, msg(0), true));
    expect(pubModel(b.run('pub0'))).toMatch(/went out on it already/);
  });

  it('offers nothing to a pipe attached after the send', () => {
    const b = new LogBuilder()
      .send(msg(0))
      .attach(1)
      .readyStep(1, (x) => x.out(1, msg(0)));
    expect(pubModel(b.run('pub0'))).toMatch(/not offered to that pipe/);
  });
});

describe('the BUS model', () => {
  it('rejects a cooked BUS relaying what it received', () => {
    const b = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .attach(2)
      .readyStep(2)
      .in(1, msg(7), (x) => x.out(2, msg(7)))
      .recv(msg(7), 1);
    expect(busModel(b.run('bus0', { app: 'sink' }))).toMatch(/relayed/);
  });

  it('accepts an XBUS hub forwarding to all but the origin, and rejects the echo', () => {
    const hub = (): LogBuilder =>
      new LogBuilder().attach(1).readyStep(1).attach(2).readyStep(2).in(1, msg(7));
    const ok = hub().send(msg(7), (x) => x.out(2, msg(7)), word(1));
    expect(busModel(ok.run('xbus0', { app: 'device' }))).toBeNull();
    const echo = hub().send(msg(7), (x) => x.out(2, msg(7)).out(1, msg(7)), word(1));
    expect(busModel(echo.run('xbus0', { app: 'device' }))).toMatch(/echoed to its origin/);
  });
});

describe('the SUB model', () => {
  const topic = Uint8Array.of(0, 0, 0, 1);

  it('delivers subscribed messages in order and filters the rest', () => {
    const b = new LogBuilder()
      .subscribe(topic)
      .attach(1)
      .in(1, msg(1))
      .in(1, msg(2))
      .in(1, msg(1, 12))
      .at(5)
      .recv(msg(1), 1)
      .recv(msg(1, 12), 1);
    expect(subModel(b.run('sub0', { app: 'sink' }))).toBeNull();
  });

  it('rejects a message of a topic it is not subscribed to', () => {
    const b = new LogBuilder().subscribe(topic).attach(1).in(1, msg(2)).at(5).recv(msg(2), 1);
    expect(subModel(b.run('sub0', { app: 'sink' }))).toMatch(/matched no subscription/);
  });

  it('rejects dropping a subscribed message while the queue had room, accepts it at a full queue', () => {
    const b = new LogBuilder()
      .subscribe(new Uint8Array(0))
      .attach(1)
      .in(1, msg(0))
      .in(1, msg(1))
      .in(1, msg(2))
      .at(5)
      .recv(msg(1), 1)
      .recv(msg(2), 1);
    expect(subModel(b.run('sub0', { app: 'sink', options: { readQ: 4 } }))).toMatch(/not full/);
    expect(subModel(b.run('sub0', { app: 'sink', options: { readQ: 2 } }))).toBeNull();
  });

  it('lets an unsubscribe purge queued messages, and rejects delivering one afterwards', () => {
    const base = (): LogBuilder =>
      new LogBuilder()
        .subscribe(topic)
        .subscribe(new Uint8Array(0))
        .attach(1)
        .in(1, msg(2))
        .in(1, msg(1))
        .at(3)
        .subscribe(new Uint8Array(0), true)
        .at(5);
    expect(subModel(base().recv(msg(1), 1).run('sub0', { app: 'sink' }))).toBeNull();
    expect(subModel(base().recv(msg(2), 1).run('sub0', { app: 'sink' }))).toMatch(/purged it/);
  });

  it('XSUB delivers everything', () => {
    const b = new LogBuilder().attach(1).in(1, msg(2)).at(5).recv(msg(2), 1);
    expect(subModel(b.run('xsub0', { app: 'sink' }))).toBeNull();
  });
});

describe('the STAR model', () => {
  const hop = (n: number, body: Uint8Array): Uint8Array => {
    const out = new Uint8Array(4 + body.length);
    out[3] = n;
    out.set(body, 4);
    return out;
  };
  /** Two pipes; pipe 1 brings msg(9) at hop `h`; the socket sends msg(0) itself. */
  const base = (): LogBuilder => new LogBuilder().attach(1).readyStep(1).attach(2).readyStep(2);

  it('sends with hop count 0 to every pipe and forwards an arrival to the others, one hop further', () => {
    const b = base()
      .send(msg(0), (x) =>
        x.out(1, msg(0), true, Uint8Array.of(0, 0, 0, 0)).out(2, msg(0), true, Uint8Array.of(0, 0, 0, 0)),
      )
      .in(1, hop(2, msg(9)), (x) => x.out(2, msg(9), true, Uint8Array.of(0, 0, 0, 3)))
      .recv(msg(9), 1);
    expect(starModel(b.run('star', { app: 'sink' }))).toBeNull();
  });

  it('rejects an arrival echoed to its origin, a hop count not incremented, a forward at TTL', () => {
    const echoed = base().in(1, hop(2, msg(9)), (x) =>
      x.out(2, msg(9), true, Uint8Array.of(0, 0, 0, 3)).out(1, msg(9), true, Uint8Array.of(0, 0, 0, 3)),
    );
    expect(starModel(echoed.run('star'))).toMatch(/not offered to that pipe/);
    const same = base().in(1, hop(2, msg(9)), (x) => x.out(2, msg(9), true, Uint8Array.of(0, 0, 0, 2)));
    expect(starModel(same.run('star'))).toMatch(/wrong hop count/);
    const atTtl = base().in(1, hop(8, msg(9)), (x) => x.out(2, msg(9), true, Uint8Array.of(0, 0, 0, 9)));
    expect(starModel(atTtl.run('star'))).toMatch(/not offered/);
  });

  it('rejects a forward left waiting on an idle pipe, and a delivery of a message at TTL', () => {
    const waiting = base().in(1, hop(1, msg(9)));
    expect(starModel(waiting.run('star'))).toMatch(/idle .* while message #0 waited/);
    const delivered = base()
      .in(1, hop(8, msg(9)))
      .recv(msg(9), 1);
    expect(starModel(delivered.run('star', { app: 'sink' }))).toMatch(/only 0 messages arrived/);
  });

  it('XSTAR: sends with the application’s own hop count, discards a send without one', () => {
    const ok = base().send(
      msg(0),
      (x) =>
        x.out(1, msg(0), true, Uint8Array.of(0, 0, 0, 5)).out(2, msg(0), true, Uint8Array.of(0, 0, 0, 5)),
      Uint8Array.of(0, 0, 0, 5),
    );
    expect(starModel(ok.run('xstar'))).toBeNull();
    const bad = base().send(
      msg(0),
      (x) => x.out(1, msg(0), true, Uint8Array.of(0, 0, 1, 5)),
      Uint8Array.of(0, 0, 1, 5),
    );
    expect(starModel(bad.run('xstar'))).toMatch(/not offered/);
  });
});
