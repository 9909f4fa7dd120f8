/**
 * Raw REQ/REP edges: XREP's per-pipe reply queue holds WRITEQ-LEN replies (at least one) behind a
 * peer that does not read and drops the rest; XREQ drops a reply too short for a header word; XREP
 * drops a request whose id is not within TTL words (its own hop counted).
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import { readU32 } from '../../runtime/bytes.js';
import { rawPeer, word } from '../testing/raw-peer.js';
import { lab, str } from '../testing/sim-lab.js';
import { openXRep0, openXReq0 } from './raw-reqrep.js';

const MS = 1000;
const REQ0 = 48;
const REP0 = 49;

/**
 * Replies `n` times at once to a requester that reads nothing, then lets it read: how many replies
 * the pipe took before its transport pushed back, and how many more (XREP's queue) arrive later.
 */
async function stalledReplies(writeQ: number, n: number): Promise<{ taken: number; queued: number }> {
  const { a, b, world, drive } = lab(`xrep-stalled-${writeQ}`);
  const ring = new RingSink(100_000);
  world.trace.addSink(ring);
  const frames = (): number =>
    ring.events().filter((e) => e.kind === 'msg-send' && (e as { proto?: string }).proto === 'rep0').length;
  return drive(async () => {
    const rep = openXRep0(a, { options: { 'WRITEQ-LEN': writeQ } });
    await rep.listen('tcp://a:5555');
    const peer = await rawPeer(b, 'tcp://a:5555', REQ0, true);
    peer.sendFrame(word(0x8000_0001, 'q'));
    const req = await rep.recvMsg();
    const body = new Uint8Array(1000);
    for (let i = 0; i < n; i++) await rep.sendMsg({ header: req.header, body });
    const taken = frames(); // the replies the pipe took before its transport pushed back
    await a.sleep(50 * MS);
    peer.conn.resumeReading();
    await a.sleep(500 * MS);
    expect(frames()).toBe(peer.frames.length);
    return { taken, queued: peer.frames.length - taken };
  });
}

describe('XREP reply queue behind a stalled requester', () => {
  it('holds WRITEQ-LEN replies and drops the rest', async () => {
    const r = await stalledReplies(2, 400);
    expect(r.taken).toBeGreaterThan(0);
    expect(r.taken).toBeLessThan(398);
    expect(r.queued).toBe(2);
  });

  it('holds one reply with WRITEQ-LEN 0', async () => {
    const r = await stalledReplies(0, 400);
    expect(r.taken).toBeLessThan(399);
    expect(r.queued).toBe(1);
  });
});

describe('raw drops', () => {
  it('XREQ: a reply shorter than 4 bytes is dropped; one of 4 bytes or more is delivered with its header word', async () => {
    const { a, b, drive } = lab('xreq-short-reply');
    const got = await drive(async () => {
      const req = openXReq0(a);
      await req.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', REP0);
      await a.sleep(1 * MS);
      peer.sendFrame(Uint8Array.of(1, 2));
      peer.sendFrame(word(0x8000_0006)); // exactly a header word, empty body: delivered
      peer.sendFrame(word(0x8000_0007, 'ok'));
      const out = [];
      for (let i = 0; i < 2; i++) {
        const m = await req.recvMsg();
        out.push({ header: readU32(m.header, 0), headerBytes: m.header.length, body: str(m.body) });
      }
      return out;
    });
    expect(got).toEqual([
      { header: 0x8000_0006, headerBytes: 4, body: '' },
      { header: 0x8000_0007, headerBytes: 4, body: 'ok' },
    ]);
  });

  it('XREP: a request whose id is beyond TTL words (its own hop counted) is dropped', async () => {
    const { a, b, drive } = lab('xrep-ttl');
    const got = await drive(async () => {
      const rep = openXRep0(a, { options: { TTL: 2 } });
      await rep.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', REQ0);
      peer.sendFrame(new Uint8Array([...word(1), ...word(0x8000_0002, 'far')])); // 2 words + our hop: 3 > TTL
      peer.sendFrame(word(0x8000_0003, 'near'));
      const m = await rep.recvMsg();
      return { words: m.header.length / 4, id: readU32(m.header, 4), body: str(m.body) };
    });
    expect(got).toEqual({ words: 2, id: 0x8000_0003, body: 'near' });
  });

  it('XREP: a reply with a short header or naming an unknown pipe is discarded; the next reply goes out', async () => {
    const { a, b, drive } = lab('xrep-discard');
    const got = await drive(async () => {
      const rep = openXRep0(a);
      await rep.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', REQ0);
      peer.sendFrame(word(0x8000_0001, 'q'));
      const req = await rep.recvMsg();
      await rep.sendMsg({ header: new Uint8Array(2), body: new Uint8Array(0) }); // 2 bytes: no pipe word
      const unknown = new Uint8Array(req.header);
      unknown[3] = unknown[3]! ^ 0xff; // another pipe id
      await rep.sendMsg({ header: unknown, body: new TextEncoder().encode('lost') });
      await rep.sendMsg({ header: req.header, body: new TextEncoder().encode('r') });
      await a.sleep(10 * MS);
      return peer.frames.map((f) => str(f.subarray(4)));
    });
    expect(got).toEqual(['r']);
  });
});
