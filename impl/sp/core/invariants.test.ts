/**
 * The socket core's internal invariants: driven wrongly on purpose (as a bug would), each breaks
 * with AssertionError, not with a typed SpError; driven rightly, nothing is asserted.
 */
import { describe, expect, it } from 'vitest';
import { AssertionError } from '../../runtime/assert.js';
import type { Env } from '../../runtime/env.js';
import { OptionStore } from '../options.js';
import { openPair0 } from '../protocol/pair0.js';
import { lab } from '../testing/sim-lab.js';
import { FrameDecoder, encodeFrame } from '../wire/frames.js';
import type { Dialer } from './dialer.js';
import type { Message } from './message.js';
import type { Pipe } from './pipe.js';
import { SendQueue, type SendQueueOwner } from './send-queue.js';

const msg = (n: number): Message => ({ header: new Uint8Array(0), body: Uint8Array.of(n) });

/** A send queue over a socket stand-in whose protocol never takes anything (no ready pipe). */
function sendQueue(writeQLen: number): { q: SendQueue; env: Env } {
  const { a } = lab('send-queue');
  const owner: SendQueueOwner = {
    env: a,
    options: new OptionStore({ 'WRITEQ-LEN': writeQLen }, ['WRITEQ-LEN', 'BEST-EFFORT', 'SEND-DEADLINE']),
    protocol: { info: { name: 'test' }, pumpSend: () => undefined },
  };
  return { q: new SendQueue(owner), env: a };
}

describe('SendQueue: the queue stays within WRITEQ-LEN', () => {
  it('fills to WRITEQ-LEN, then senders wait; the protocol taking one lets one in', () => {
    const { q, env } = sendQueue(2);
    for (let i = 0; i < 4; i++) q.send(msg(i), env.defer<void>());
    expect(q.items.map((m) => m.body[0])).toEqual([0, 1]);
    q.items.shift(); // the protocol took one
    q.refill();
    expect(q.items.map((m) => m.body[0])).toEqual([1, 2]);
  });

  it('a protocol that puts messages into the queue breaks the bound where they are consumed', () => {
    const { q, env } = sendQueue(2);
    q.send(msg(0), env.defer<void>());
    q.items.push(msg(1), msg(2)); // a bug: only the send path may add
    expect(() => q.refill()).toThrow(AssertionError);
    expect(() => q.refill()).toThrow('netlab internal invariant: the send queue stays within WRITEQ-LEN');
  });
});

describe('Socket: pipes are attached at most once, detached only as themselves', () => {
  function socketWithPipe(): { attach: (p: Pipe) => boolean; detach: (p: Pipe) => void; pipe: Pipe } {
    const { a } = lab('pipes');
    const socket = openPair0(a);
    const owner = { pipeAttached: () => undefined } as unknown as Dialer;
    const pipe = { id: 7, ready: false, remoteAddress: 'tcp://b:1' } as unknown as Pipe;
    return {
      attach: (p) => socket.attachPipe(p, owner),
      detach: (p) => socket.detachPipe(p),
      pipe,
    };
  }

  it('attaching the same pipe twice throws AssertionError', () => {
    const s = socketWithPipe();
    expect(s.attach(s.pipe)).toBe(true);
    expect(() => s.attach(s.pipe)).toThrow(AssertionError);
  });

  it('detaching a never-attached pipe is allowed; detaching another pipe under an attached id is not', () => {
    const s = socketWithPipe();
    s.detach(s.pipe); // closed before its handshake finished: passes through
    expect(s.attach(s.pipe)).toBe(true);
    const impostor = { id: 7, ready: false, remoteAddress: 'tcp://b:2' } as unknown as Pipe;
    expect(() => s.detach(impostor)).toThrow(AssertionError);
    s.detach(s.pipe);
    expect(s.attach(s.pipe)).toBe(true); // detached for real: may attach again
  });
});

describe('FrameDecoder: a frame is as long as its length header', () => {
  it('holds for whole and straddling frames alike', () => {
    const d = new FrameDecoder();
    const wire = encodeFrame(new Uint8Array(300).fill(9));
    const out: number[] = [];
    d.feed(wire, (p) => out.push(p.length));
    d.feed(wire.subarray(0, 100), (p) => out.push(p.length));
    d.feed(wire.subarray(100), (p) => out.push(p.length));
    expect(out).toEqual([300, 300]);
  });

  it('an assembly buffer out of step with its header throws AssertionError', () => {
    const d = new FrameDecoder();
    const wire = encodeFrame(new Uint8Array(300).fill(9));
    d.feed(wire.subarray(0, 100), () => expect.unreachable());
    // A bug that loses the buffer's size bookkeeping: the next bytes complete a frame of the wrong length.
    (d as unknown as { body: Uint8Array }).body = new Uint8Array(400);
    expect(() => d.feed(wire.subarray(100), () => expect.unreachable())).toThrow(AssertionError);
  });
});
