import { describe, expect, it } from 'vitest';
import { flushModel, wireModel } from './wire.js';
import { LogBuilder, msg } from './testing.js';

/** A sender and a receiver joined by connection 7 (tcp a:1 <-> b:2). */
function ends(outs: Uint8Array[], ins: Uint8Array[]) {
  const tx = new LogBuilder().attach(1, 7, 'a:1', 'b:2').readyStep(1);
  for (const m of outs) tx.send(m, (x) => x.out(1, m, true));
  const rx = new LogBuilder().attach(4, 7, 'b:2', 'a:1');
  for (const m of ins) rx.in(4, m);
  return [tx.run('pair0'), rx.run('pair0', { app: 'sink' })];
}

describe('the pipe model', () => {
  it('accepts a prefix of what was written, in order', () => {
    expect(wireModel(ends([msg(0), msg(1), msg(2)], [msg(0), msg(1)]))).toBeNull();
  });

  it('rejects a message lost in the middle, duplicated, corrupted or invented', () => {
    expect(wireModel(ends([msg(0), msg(1), msg(2)], [msg(0), msg(2)]))).toMatch(/lost in the middle/);
    expect(wireModel(ends([msg(0), msg(1)], [msg(0), msg(0)]))).toMatch(/duplicated/);
    expect(wireModel(ends([msg(0)], [msg(0, 9)]))).toMatch(/corrupted/);
    expect(wireModel(ends([msg(0)], [msg(0), msg(1)]))).toMatch(/wrote only 1/);
  });

  it('does not link ends it cannot pair one to one', () => {
    const [tx, rx] = ends([msg(0)], [msg(5)]);
    const other = new LogBuilder().attach(9, 7, 'b:2', 'a:1').run('pair0');
    expect(wireModel([tx!, rx!, other])).toBeNull();
  });
});

describe('the transport side of the pipe model (flushModel)', () => {
  /** A pipe on tcp connection 7 that took `frames` frames of 8 bytes: 8 + frames * (8 + 8) bytes. */
  function pipe(frames: number, transport: 'tcp' | 'ipc' = 'tcp') {
    const b = new LogBuilder().attach(1, 7, 'a:1', 'b:2', transport).readyStep(1);
    for (let i = 0; i < frames; i++) b.send(msg(i), (x) => x.out(1, msg(i), true));
    return b;
  }

  it('accepts a pipe that wrote everything it took before its graceful close', () => {
    expect(flushModel([pipe(2).written(7, 40, { closedAtBytes: 40 }).run('push0')])).toBeNull();
    // ipc frames carry a type byte: 8 + 2 * (9 + 8).
    expect(flushModel([pipe(2, 'ipc').written(7, 42, { closedAtBytes: 42 }).run('push0')])).toBeNull();
    // Still open and still flushing: no judgement on what is left.
    expect(flushModel([pipe(2).written(7, 30).run('push0')])).toBeNull();
  });

  it('rejects a graceful close that left frames the pipe took unwritten', () => {
    expect(flushModel([pipe(2).written(7, 39, { closedAtBytes: 39 }).run('push0')])).toMatch(
      /after writing 39 of the 40 bytes it took \(SP header and 2 frames\)/,
    );
  });

  it('does not judge a connection that broke before it closed', () => {
    expect(flushModel([pipe(2).written(7, 24, { brokenAtUs: 5 }).run('push0')])).toBeNull();
  });

  it('rejects a connection that took more than the pipe was given', () => {
    expect(flushModel([pipe(1).written(7, 25).run('push0')])).toMatch(/accepted 25 from it/);
  });

  it('judges no pipe whose connection it cannot name one to one', () => {
    const b = pipe(2).written(7, 10, { closedAtBytes: 10 }).written(7, 10, { closedAtBytes: 10 });
    expect(flushModel([b.run('push0')])).toBeNull();
    expect(
      flushModel([new LogBuilder().attach(1, 7, 'a:1', 'b:2', 'inproc').readyStep(1).run('push0')]),
    ).toBeNull();
  });
});
