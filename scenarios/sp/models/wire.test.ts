import { describe, expect, it } from 'vitest';
import { wireModel } from './wire.js';
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
