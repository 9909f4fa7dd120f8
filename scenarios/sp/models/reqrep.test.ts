import { describe, expect, it } from 'vitest';
import { requesterModel, responderModel } from './reqrep.js';
import { LogBuilder, msg, word } from './testing.js';

const ID = 0x8000_0007;
/** A request as it arrives: its backtrace (pipe ids pushed by devices, then the id), then its body. */
function request(body: Uint8Array, ...backtrace: number[]): Uint8Array {
  const b = new Uint8Array(backtrace.length * 4 + body.length);
  backtrace.forEach((w, i) => b.set(word(w), i * 4));
  b.set(body, backtrace.length * 4);
  return b;
}

describe('the responder model (REP, XREP, RESPONDENT)', () => {
  const twoPipes = (): LogBuilder => new LogBuilder().attach(1).readyStep(1).attach(2).readyStep(2);

  it('accepts a reply on the request pipe with its backtrace and body', () => {
    const b = twoPipes().in(1, request(msg(0), ID));
    b.send(msg(0), (x) => x.out(1, msg(0), false, word(ID)), word(ID));
    expect(responderModel(b.run('rep0', { app: 'echo' }))).toBeNull();
  });

  it('accepts a reply whose backtrace rides in the body (raw) and a multi-hop backtrace', () => {
    const b = twoPipes().in(2, request(msg(0), 5, ID));
    b.send(msg(0), (x) => x.out(2, request(msg(0), 5, ID)));
    expect(responderModel(b.run('xrep0', { app: 'device' }))).toBeNull();
  });

  it('rejects a reply on another pipe than its request', () => {
    const b = twoPipes().in(1, request(msg(0), ID));
    b.send(msg(0), (x) => x.out(2, msg(0), false, word(ID)), word(ID));
    expect(responderModel(b.run('rep0', { app: 'echo' }))).toMatch(/one came from pipe 1/);
  });

  it('rejects a second reply to one request, and a reply that is not the echo', () => {
    const b = twoPipes().in(1, request(msg(0), ID));
    b.send(msg(0), (x) => x.out(1, msg(0), true, word(ID)).out(1, msg(0), true, word(ID)), word(ID));
    expect(responderModel(b.run('rep0', { app: 'echo' }))).toMatch(/no unanswered request/);
    const c = twoPipes().in(1, request(msg(0), ID));
    c.send(msg(3), (x) => x.out(1, msg(3), false, word(ID)), word(ID));
    expect(responderModel(c.run('rep0', { app: 'echo' }))).toMatch(/not its echo/);
  });

  it('lets a raw respondent in front of a device answer one survey many times', () => {
    const b = twoPipes().in(1, request(msg(0), ID));
    b.send(msg(0), (x) => x.out(1, request(msg(0), ID), true).out(1, request(msg(0), ID), true));
    expect(responderModel(b.run('xrespondent0', { app: 'device' }))).toBeNull();
  });
});

const reply = (id: number, body: Uint8Array): Uint8Array => request(body, id);
const ID2 = 0x8000_0008;
const ID3 = 0x8000_0009;

describe('the REQ model', () => {
  it('accepts transmissions (and resends) of the current request', () => {
    const b = new LogBuilder().attach(1).readyStep(1);
    b.send(msg(0), (x) => x.out(1, msg(0), true, word(ID)))
      .at(60_000_000)
      .readyStep(1, (x) => x.out(1, msg(0), true, word(ID)));
    expect(requesterModel(b.run('req0'))).toBeNull();
  });

  it('rejects a resend before RETRY-TIME ran out while its pipe lives, and one under a new id', () => {
    const early = new LogBuilder().attach(1).readyStep(1).attach(2).readyStep(2);
    early
      .send(msg(0), (x) => x.out(1, msg(0), true, word(ID)))
      .at(1_000_000)
      .readyStep(2, (x) => x.out(2, msg(0), true, word(ID)));
    expect(requesterModel(early.run('req0', { options: { retryUs: 2_000_000 } }))).toMatch(
      /again on pipe 2 .* within RETRY-TIME/,
    );
    const renamed = new LogBuilder().attach(1).readyStep(1);
    renamed
      .send(msg(0), (x) => x.out(1, msg(0), true, word(ID)))
      .at(3_000_000)
      .readyStep(1, (x) => x.out(1, msg(0), true, word(ID2)));
    expect(requesterModel(renamed.run('req0', { options: { retryUs: 2_000_000 } }))).toMatch(
      /with id 80000008, not the 80000007/,
    );
  });

  it('rejects transmitting an older request or one without an id', () => {
    const b = new LogBuilder().attach(1).readyStep(1);
    b.send(msg(0), (x) => x.out(1, msg(0), true, word(ID))).send(msg(1), (x) =>
      x.out(1, msg(0), true, word(ID)),
    );
    expect(requesterModel(b.run('req0'))).toMatch(
      /request #0 \(id 80000007\) again .* after it was cancelled/,
    );
    const c = new LogBuilder().attach(1).readyStep(1);
    c.send(msg(0), (x) => x.out(1, msg(0), true, word(7)));
    expect(requesterModel(c.run('req0'))).toMatch(/not one request id word/);
  });

  it('accepts requests round-robin over free pipes', () => {
    const b = new LogBuilder().attach(1).readyStep(1).attach(2).readyStep(2);
    b.send(msg(0), (x) => x.out(1, msg(0), true, word(ID)))
      .in(1, reply(ID, msg(0)))
      .send(msg(1), (x) => x.out(2, msg(1), true, word(ID2)));
    expect(requesterModel(b.run('req0'))).toBeNull();
  });

  it('rejects a pipe getting the next request while another stayed free (not round-robin)', () => {
    const b = new LogBuilder().attach(1).readyStep(1).attach(2).readyStep(2);
    b.send(msg(0), (x) => x.out(1, msg(0), true, word(ID)))
      .in(1, reply(ID, msg(0)))
      .send(msg(1), (x) => x.out(1, msg(1), true, word(ID2)));
    expect(requesterModel(b.run('req0'))).toMatch(/not round-robin/);
  });

  it('rejects a request waiting while a pipe is ready and free, and accepts one whose pipe is lost until another comes', () => {
    const waits = new LogBuilder().attach(1).readyStep(1).send(msg(0));
    expect(requesterModel(waits.run('req0'))).toMatch(/waited .* while pipe 1 was ready and free/);
    const moved = new LogBuilder().attach(1).readyStep(1);
    moved
      .send(msg(0), (x) => x.out(1, msg(0), true, word(ID)))
      .detach(1)
      .attach(2)
      .readyStep(2, (x) => x.out(2, msg(0), true, word(ID)));
    expect(requesterModel(moved.run('req0'))).toBeNull();
  });
});

describe('the REQ model with contexts', () => {
  const twoPipes = (): LogBuilder => new LogBuilder().attach(1).readyStep(1).attach(2).readyStep(2);

  it('accepts a request per context on free pipes, each reply reaching its own context', () => {
    const b = twoPipes()
      .ctxSend(1, msg(0), 0, (x) => x.out(1, msg(0), true, word(ID)))
      .ctxSend(2, msg(1), 1, (x) => x.out(2, msg(1), true, word(ID2)))
      .in(2, reply(ID2, msg(1)))
      .in(1, reply(ID, msg(0)))
      .recv(msg(1), 2, { replyTo: 1, requestId: ID2 })
      .recv(msg(0), 1, { replyTo: 0, requestId: ID });
    expect(requesterModel(b.run('req0'))).toBeNull();
  });

  it('lets a third context wait while both pipes carry requests, then take the first freed', () => {
    const b = twoPipes()
      .ctxSend(1, msg(0), 0, (x) => x.out(1, msg(0), true, word(ID)))
      .ctxSend(2, msg(1), 1, (x) => x.out(2, msg(1), true, word(ID2)))
      .ctxSend(3, msg(2), 2)
      .in(2, reply(ID2, msg(1)), (x) => x.out(2, msg(2), true, word(ID3)));
    expect(requesterModel(b.run('req0'))).toBeNull();
    const stuck = twoPipes()
      .ctxSend(1, msg(0), 0, (x) => x.out(1, msg(0), true, word(ID)))
      .ctxSend(2, msg(1), 1, (x) => x.out(2, msg(1), true, word(ID2)))
      .ctxSend(3, msg(2), 2)
      .in(2, reply(ID2, msg(1)));
    expect(requesterModel(stuck.run('req0'))).toMatch(
      /request #2 \(context 3\) waited .* while pipe 2 was ready and free/,
    );
  });

  it('rejects a pipe given a second live request', () => {
    const b = twoPipes()
      .ctxSend(1, msg(0), 0, (x) => x.out(1, msg(0), true, word(ID)))
      .ctxSend(2, msg(1), 1, (x) => x.out(1, msg(1), true, word(ID2)));
    expect(requesterModel(b.run('req0'))).toMatch(/while that pipe still carried request #0 \(context 1\)/);
  });

  it('rejects a request transmitted after its context closed, and frees its pipe at the close', () => {
    const late = new LogBuilder()
      .attach(1)
      .ctxSend(1, msg(0), 0)
      .ctxClose(1)
      .readyStep(1, (x) => x.out(1, msg(0), true, word(ID)));
    expect(requesterModel(late.run('req0'))).toMatch(/request #0 \(context 1\) .* after it was closed/);
    const freed = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .ctxSend(1, msg(0), 0, (x) => x.out(1, msg(0), true, word(ID)))
      .ctxClose(1)
      .ctxSend(2, msg(1), 1, (x) => x.out(1, msg(1), true, word(ID2)));
    expect(requesterModel(freed.run('req0'))).toBeNull();
  });

  it('rejects a reply handed to the context of another request, a stale one and a doubled one', () => {
    const crossed = twoPipes()
      .ctxSend(1, msg(0), 0, (x) => x.out(1, msg(0), true, word(ID)))
      .ctxSend(2, msg(1), 1, (x) => x.out(2, msg(1), true, word(ID2)))
      .in(1, reply(ID, msg(0)))
      .recv(msg(0), 1, { replyTo: 1, requestId: ID });
    expect(requesterModel(crossed.run('req0'))).toMatch(
      /as the reply to request #1, but no reply with its id 80000008/,
    );
    const stale = twoPipes()
      .ctxSend(1, msg(0), 0, (x) => x.out(1, msg(0), true, word(ID)))
      .ctxSend(1, msg(1), 1, (x) => x.out(2, msg(1), true, word(ID2)))
      .in(1, reply(ID, msg(0)))
      .recv(msg(0), 1, { replyTo: 0, requestId: ID });
    expect(requesterModel(stale.run('req0'))).toMatch(
      /reply to request #0, but no reply with its id 80000007 had arrived while it was live/,
    );
    const twice = twoPipes()
      .ctxSend(1, msg(0), 0, (x) => x.out(1, msg(0), true, word(ID)))
      .in(1, reply(ID, msg(0)))
      .recv(msg(0), 1, { replyTo: 0, requestId: ID })
      .recv(msg(0), 1, { replyTo: 0, requestId: ID });
    expect(requesterModel(twice.run('req0'))).toMatch(/twice/);
  });

  it('does not judge a pipe whose request may have been resent (RETRY-TIME ran out, unseen)', () => {
    const b = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .ctxSend(1, msg(0), 0, (x) => x.out(1, msg(0), true, word(ID)))
      .at(2_000_000)
      .ctxSend(2, msg(1), 1, (x) => x.out(1, msg(1), true, word(ID2)));
    expect(requesterModel(b.run('req0', { options: { retryUs: 1_000_000 } }))).toBeNull();
    expect(requesterModel(b.run('req0', { options: { retryUs: 3_000_000 } }))).toMatch(/still carried/);
  });
});
