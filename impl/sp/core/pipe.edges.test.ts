/**
 * Stream pipe edges the mutation sample found untested: the length field a traced frame names
 * (8 bytes on TCP, 9 on IPC, whose frames start with a type byte), and the address a listener on
 * port 0 reports once bound.
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import { openPair0 } from '../protocol/pair0.js';
import { lab, str, text } from '../testing/sim-lab.js';

describe('traced frames name their length field', () => {
  for (const [url, length] of [
    ['tcp://a:5555', 8],
    ['ipc:///tmp/edges.sock', 9],
  ] as const) {
    it(`${url.slice(0, 3)}: the length field is ${length} bytes on msg-send and msg-recv`, async () => {
      const { a, b, world, drive } = lab(`pipe-field-${length}`);
      const ring = new RingSink(1000);
      world.trace.addSink(ring);
      const got = await drive(async () => {
        const s = openPair0(a);
        const c = openPair0(url.startsWith('ipc') ? a : b);
        await s.listen(url);
        await c.dial(url);
        await c.send(text('hello'));
        return str(await s.recv());
      });
      expect(got).toBe('hello');
      const frames = ring
        .events()
        .filter(
          (e) => (e.kind === 'msg-send' || e.kind === 'msg-recv') && (e as { msg?: string }).msg === 'frame',
        )
        .map((e) => ({ kind: e.kind, fields: (e as { fields?: unknown }).fields }));
      expect(frames).toEqual([
        { kind: 'msg-send', fields: [{ name: 'length', offset: 0, length, value: 5 }] },
        { kind: 'msg-recv', fields: [{ name: 'length', offset: 0, length, value: 5 }] },
      ]);
    });
  }
});

describe('listener address', () => {
  it('reports the port a listener on port 0 was given, and dialing that address reaches it', async () => {
    const { a, b, drive } = lab('listener-port-0');
    const r = await drive(async () => {
      const s = openPair0(a);
      const l = s.newListener('tcp://a:0');
      const before = l.address;
      await l.listen();
      const after = l.address;
      const c = openPair0(b);
      await c.dial(after);
      await c.send(text('hi'));
      return { before, after, got: str(await s.recv()) };
    });
    expect(r.before).toBe('tcp://a:0');
    expect(r.after).toMatch(/^tcp:\/\/a:\d+$/);
    expect(Number(r.after.split(':').pop())).toBeGreaterThan(0);
    expect(r.got).toBe('hi');
  });
});
