import { describe, expect, it } from 'vitest';
import type { StreamConn } from '../../../sim/stream.js';
import { concatBytes, readU32, readU64Number } from '../../runtime/bytes.js';
import type { Env } from '../../runtime/env.js';
import { device } from '../core/device.js';
import type { Socket } from '../core/socket.js';
import { rawPeer } from '../testing/raw-peer.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { encodeFrame } from '../wire/frames.js';
import { encodeHandshake } from '../wire/handshake.js';
import { encodeU32 } from './req0.js';
import {
  openRespondent0,
  openSurveyor0,
  openXRespondent0,
  openXSurveyor0,
  rawSurveyStats,
  respondent0Stats,
  surveyor0Stats,
} from './survey.js';

const MS = 1000;
const S = 1_000_000;

/** A respondent that answers every survey with `name:` + the survey, after `delayUs`. */
async function answer(
  resp: { recv(): Promise<Uint8Array>; send(b: Uint8Array): Promise<void>; socket?: Socket; env?: Env },
  name: string,
  delayUs = 0,
  count = Infinity,
): Promise<void> {
  const env = (resp.env ?? resp.socket?.env)!;
  for (let i = 0; i < count; i++) {
    let q: Uint8Array;
    try {
      q = await resp.recv();
    } catch {
      return;
    }
    if (delayUs > 0) await env.sleep(delayUs);
    try {
      await resp.send(text(`${name}:${str(q)}`));
    } catch {
      return;
    }
  }
}

/** Receives until the survey ends; returns the responses and the error that ended it. */
async function collect(s: { recv(): Promise<Uint8Array> }): Promise<{ got: string[]; end: string }> {
  const got: string[] = [];
  for (;;) {
    try {
      got.push(str(await s.recv()));
    } catch (e) {
      return { got: got.sort(), end: (e as { code: string }).code };
    }
  }
}

/** A raw SP peer on `env` that handshakes as `proto` and hands every frame to `onFrame`. */
function rawSpListener(
  env: Env,
  address: string,
  proto: number,
  onFrame: (conn: StreamConn, payload: Uint8Array) => void,
  onConn: (conn: StreamConn) => void = () => undefined,
): void {
  env.listen(
    address,
    (conn) => {
      let buf = new Uint8Array(0);
      let handshaken = false;
      conn.setHandlers({
        onData: (b) => {
          buf = concatBytes([buf, b]);
          if (!handshaken && buf.length >= 8) {
            handshaken = true;
            buf = buf.subarray(8);
          }
          while (handshaken && buf.length >= 8) {
            const len = readU64Number(buf, 0);
            if (buf.length < 8 + len) break;
            onFrame(conn, buf.subarray(8, 8 + len));
            buf = buf.subarray(8 + len);
          }
        },
      });
      conn.write(encodeHandshake(proto));
      onConn(conn);
    },
    () => undefined,
  );
}

describe('SURVEYOR/RESPONDENT over the simulated network', () => {
  it('30, 28. a survey reaches every respondent; responses come until SURVEY-TIME, then ErrTimedOut, then ErrProtoState', async () => {
    const { a, b, drive } = lab('survey-all', { conn: { randomChunking: true } });
    const r = await drive(async () => {
      const surv = openSurveyor0(a, { options: { 'SURVEY-TIME': 200 * MS } });
      await surv.listen('tcp://a:5555');
      for (const name of ['r1', 'r2', 'r3']) {
        const resp = openRespondent0(b);
        await resp.dial('tcp://a:5555');
        void answer(resp, name);
      }
      const t0 = a.nowUs();
      await surv.send(text('q?'));
      const { got, end } = await collect(surv);
      return { got, end, endedAfterMs: (a.nowUs() - t0) / MS, after: await code(surv.recv()) };
    });
    expect(r).toEqual({
      got: ['r1:q?', 'r2:q?', 'r3:q?'],
      end: 'ErrTimedOut',
      endedAfterMs: 200,
      after: 'ErrProtoState',
    });
  });

  it('28. recv with no survey is ErrProtoState; SURVEY-TIME defaults to 1 s and rejects bad values', async () => {
    const { a, drive } = lab('survey-nosurvey');
    const surv = openSurveyor0(a);
    expect(surv.getOption('SURVEY-TIME')).toBe(1 * S);
    for (const v of [-1, 1.5, 'x', null]) {
      expect(() => surv.setOption('SURVEY-TIME', v)).toThrowError(
        expect.objectContaining({ code: 'ErrBadValue' }) as Error,
      );
    }
    expect(() => surv.setOption('TTL', 3)).toThrowError(
      expect.objectContaining({ code: 'ErrBadOption' }) as Error,
    );
    const r = await drive(async () => {
      const noSurvey = await code(surv.recv());
      const t0 = a.nowUs();
      await surv.send(text('nobody listens'));
      const expired = await code(surv.recv());
      return { noSurvey, expired, afterUs: a.nowUs() - t0 };
    });
    expect(r).toEqual({ noSurvey: 'ErrProtoState', expired: 'ErrTimedOut', afterUs: 1 * S });
  });

  it('29, 28. a new survey cancels the previous (blocked recv: ErrCanceled); late responses to it are dropped and counted', async () => {
    const { a, b, drive } = lab('survey-cancel');
    const r = await drive(async () => {
      const surv = openSurveyor0(a, { options: { 'SURVEY-TIME': 1 * S } });
      await surv.listen('tcp://a:5555');
      const slow = openRespondent0(b);
      await slow.dial('tcp://a:5555');
      void answer(slow, 'slow', 100 * MS);
      await surv.send(text('first'));
      const blocked = code(surv.recv());
      await a.sleep(50 * MS);
      await surv.send(text('second'));
      const canceled = await blocked;
      // The answer to "first" arrives at ~100 ms, during the second survey: it must not be collected.
      const got = str(await surv.recv());
      return { canceled, got, stats: { ...surveyor0Stats(surv)! } };
    });
    expect(r.canceled).toBe('ErrCanceled');
    expect(r.got).toBe('slow:second');
    expect(r.stats.staleResponses).toBe(1);
    expect(r.stats.surveys).toBe(2);
  });

  it('28. responses with unknown ids, short ones and ones without the top bit are dropped and counted', async () => {
    const { a, b, drive } = lab('survey-garbage');
    const r = await drive(async () => {
      rawSpListener(b, 'tcp://b:5555', 99, (conn, p) => {
        const id = readU32(p);
        conn.write(encodeFrame(new Uint8Array([1, 2])));
        conn.write(encodeFrame(new Uint8Array([0, 0, 0, 1, 9]))); // no top bit
        conn.write(encodeFrame(new Uint8Array([...encodeU32((id + 7) | 0x8000_0000), 9]))); // unknown id
        conn.write(encodeFrame(new Uint8Array([...encodeU32(id), 42])));
      });
      const surv = openSurveyor0(a, { options: { 'SURVEY-TIME': 100 * MS } });
      await surv.dial('tcp://b:5555');
      await surv.send(text('q'));
      const got = Array.from(await surv.recv());
      const end = await code(surv.recv());
      return { got, end, stats: { ...surveyor0Stats(surv)! }, pipes: surv.pipes.size };
    });
    expect(r.got).toEqual([42]);
    expect(r.end).toBe('ErrTimedOut');
    expect(r.stats.garbageResponses).toBe(2);
    expect(r.stats.staleResponses).toBe(1);
    expect(r.pipes).toBe(1); // kept (mangos)
  });

  it('GARBAGE-CLOSES-PIPE: a response without a survey id closes its pipe (nng)', async () => {
    const { a, b, drive } = lab('survey-garbage-close');
    const r = await drive(async () => {
      rawSpListener(b, 'tcp://b:5555', 99, (conn) => conn.write(encodeFrame(new Uint8Array([1]))));
      const surv = openSurveyor0(a, { options: { 'GARBAGE-CLOSES-PIPE': true, 'RECONNECT-TIME': 10 * S } });
      await surv.dial('tcp://b:5555');
      await surv.send(text('q'));
      await a.sleep(50 * MS);
      return { pipes: surv.pipes.size, garbage: surveyor0Stats(surv)!.garbageResponses };
    });
    expect(r).toEqual({ pipes: 0, garbage: 1 });
  });

  it('survey ids have the top bit set, start from the seeded stream and go up by one', async () => {
    const { a, b, drive } = lab('survey-ids');
    const ids: number[] = [];
    await drive(async () => {
      rawSpListener(b, 'tcp://b:5555', 99, (_c, p) => ids.push(readU32(p)));
      const surv = openSurveyor0(a);
      await surv.dial('tcp://b:5555');
      for (let i = 0; i < 3; i++) await surv.send(text('n'));
      await a.sleep(10 * MS);
    });
    expect(ids).toHaveLength(3);
    expect(ids.every((id) => id >>> 31 === 1)).toBe(true);
    expect([ids[1]! - ids[0]!, ids[2]! - ids[1]!]).toEqual([1, 1]);
  });

  it('30. a survey never blocks: a stalled respondent misses surveys once its queue is full, the others get them all', async () => {
    const { a, b, drive } = lab('survey-nonblock');
    const r = await drive(async () => {
      let stalledGot = 0;
      rawSpListener(
        b,
        'tcp://b:5555',
        99,
        () => stalledGot++,
        (conn) => conn.pauseReading(),
      );
      let fastGot = 0;
      rawSpListener(b, 'tcp://b:6666', 99, () => fastGot++);
      const surv = openSurveyor0(a, { options: { 'WRITEQ-LEN': 4 } });
      await surv.dial('tcp://b:5555');
      await surv.dial('tcp://b:6666');
      const big = new Uint8Array(16 * 1024);
      let sendUs = 0;
      for (let i = 0; i < 200; i++) {
        const t0 = a.nowUs();
        await surv.send(big);
        sendUs = Math.max(sendUs, a.nowUs() - t0);
        await a.sleep(5 * MS); // the fast respondent keeps up
      }
      await a.sleep(2 * S);
      return { sendUs, stalledGot, fastGot, dropped: surveyor0Stats(surv)!.droppedSends };
    });
    expect(r.sendUs).toBe(0);
    expect(r.fastGot).toBe(200);
    expect(r.stalledGot).toBe(0);
    // The stalled pipe took what its transport window and its queue of 4 hold, then missed the rest.
    expect(r.dropped).toBeGreaterThan(100);
    expect(r.dropped).toBeLessThan(196);
  });

  it('a survey keeps at most READQ-LEN unread responses; RECV-DEADLINE times out a recv but not the survey', async () => {
    const { a, b, drive } = lab('survey-readq');
    const r = await drive(async () => {
      const surv = openSurveyor0(a, { options: { 'READQ-LEN': 2, 'SURVEY-TIME': 500 * MS } });
      await surv.listen('tcp://a:5555');
      for (let i = 0; i < 4; i++) {
        const resp = openRespondent0(b);
        await resp.dial('tcp://a:5555');
        void answer(resp, `r${i}`, 100 * MS, 1);
      }
      surv.setOption('RECV-DEADLINE', 50 * MS);
      await surv.send(text('q'));
      const timedOut = await code(surv.recv());
      await a.sleep(200 * MS);
      surv.setOption('RECV-DEADLINE', null);
      const { got, end } = await collect(surv);
      return { timedOut, got: got.length, end, overflow: surveyor0Stats(surv)!.overflowResponses };
    });
    expect(r).toEqual({ timedOut: 'ErrRecvTimeout', got: 2, end: 'ErrTimedOut', overflow: 2 });
  });

  it('unread responses are discarded when the survey expires', async () => {
    const { a, b, drive } = lab('survey-discard');
    const r = await drive(async () => {
      const surv = openSurveyor0(a, { options: { 'SURVEY-TIME': 100 * MS } });
      await surv.listen('tcp://a:5555');
      const resp = openRespondent0(b);
      await resp.dial('tcp://a:5555');
      void answer(resp, 'r');
      await surv.send(text('q'));
      await a.sleep(200 * MS);
      return { after: await code(surv.recv()), discarded: surveyor0Stats(surv)!.discardedResponses };
    });
    expect(r).toEqual({ after: 'ErrProtoState', discarded: 1 });
  });

  it('contexts run independent surveys; each collects only its own responses; closing one aborts its recv', async () => {
    const { a, b, drive } = lab('survey-ctx');
    const r = await drive(async () => {
      const surv = openSurveyor0(a, { options: { 'SURVEY-TIME': 300 * MS } });
      await surv.listen('tcp://a:5555');
      const resp = openRespondent0(b);
      await resp.dial('tcp://a:5555');
      const rc1 = resp.openContext();
      const rc2 = resp.openContext();
      void answer(rc1, 'c1');
      void answer(rc2, 'c2', 20 * MS);
      const s1 = surv.openContext();
      const s2 = surv.openContext();
      const s3 = surv.openContext();
      await s1.send(text('one'));
      await s2.send(text('two'));
      const [g1, g2] = await Promise.all([collect(s1), collect(s2)]);
      await s3.send(text('three'));
      const blocked = code(s3.recv());
      await a.sleep(1 * MS);
      const recvBefore = code(s3.recv());
      s3.close();
      return {
        g1,
        g2,
        closed: await blocked,
        second: await recvBefore,
        after: await code(s3.send(text('x'))),
      };
    });
    // Each respondent context took one survey; which one is a matter of arrival order.
    expect(r.g1.got).toHaveLength(1);
    expect(r.g2.got).toHaveLength(1);
    expect(r.g1.got[0]!.endsWith(':one')).toBe(true);
    expect(r.g2.got[0]!.endsWith(':two')).toBe(true);
    expect([r.g1.end, r.g2.end]).toEqual(['ErrTimedOut', 'ErrTimedOut']);
    expect(r).toMatchObject({ closed: 'ErrClosed', second: 'ErrProtoState', after: 'ErrClosed' });
  });

  it('a context sets its own SURVEY-TIME; the socket default applies to the others', async () => {
    const { a, b, drive } = lab('survey-ctx-time');
    const r = await drive(async () => {
      const surv = openSurveyor0(a, { options: { 'SURVEY-TIME': 300 * MS } });
      await surv.listen('tcp://a:5555');
      const resp = openRespondent0(b);
      await resp.dial('tcp://a:5555');
      const rc1 = resp.openContext();
      const rc2 = resp.openContext();
      // Both answer 100 ms late: inside the socket's 300 ms window, outside the context's 50 ms one.
      void answer(rc1, 'r1', 100 * MS);
      void answer(rc2, 'r2', 100 * MS);
      const short = surv.openContext();
      short.setOption('SURVEY-TIME', 50 * MS);
      const normal = surv.openContext();
      await short.send(text('short'));
      await normal.send(text('normal'));
      const [s, n] = await Promise.all([collect(short), collect(normal)]);
      return { short: s, normal: n };
    });
    expect(r.short.got).toEqual([]);
    expect(r.short.end).toBe('ErrTimedOut');
    expect(r.normal.got).toHaveLength(1);
    expect(r.normal.end).toBe('ErrTimedOut');
  });

  it('SURVEY-TIME 0: the survey lasts until the next one; closing the socket fails a blocked recv with ErrClosed', async () => {
    const { a, b, drive } = lab('survey-notime');
    const r = await drive(async () => {
      const surv = openSurveyor0(a, { options: { 'SURVEY-TIME': 0 } });
      await surv.listen('tcp://a:5555');
      const resp = openRespondent0(b);
      await resp.dial('tcp://a:5555');
      void answer(resp, 'late', 30 * S);
      await surv.send(text('q'));
      const late = str(await surv.recv()); // 30 s later: still the same survey
      const blocked = code(surv.recv());
      await a.sleep(1 * MS);
      await surv.close();
      return { late, closed: await blocked };
    });
    expect(r).toEqual({ late: 'late:q', closed: 'ErrClosed' });
  });

  it('ipc carries surveys and responses too', async () => {
    const { a, drive } = lab('survey-ipc');
    const r = await drive(async () => {
      const surv = openSurveyor0(a, { options: { 'SURVEY-TIME': 50 * MS } });
      await surv.listen('ipc:///tmp/survey.sock');
      const resp = openRespondent0(a);
      await resp.dial('ipc:///tmp/survey.sock');
      void answer(resp, 'ipc');
      await a.sleep(1 * MS);
      await surv.send(text('q'));
      return collect(surv);
    });
    expect(r).toEqual({ got: ['ipc:q'], end: 'ErrTimedOut' });
  });

  it('inproc carries surveys and responses too', async () => {
    const { a, drive } = lab('survey-inproc');
    const r = await drive(async () => {
      const surv = openSurveyor0(a, { options: { 'SURVEY-TIME': 50 * MS } });
      await surv.listen('inproc://survey');
      const resp = openRespondent0(a);
      await resp.dial('inproc://survey');
      void answer(resp, 'in');
      await a.sleep(1 * MS);
      await surv.send(text('q'));
      return collect(surv);
    });
    expect(r).toEqual({ got: ['in:q'], end: 'ErrTimedOut' });
  });

  it('the same survey scenario gives the same trace hash twice', async () => {
    const run = async (): Promise<string> => {
      const l = lab('survey-det', {
        link: { lossRate: 0.05, latency: { kind: 'uniform', minUs: 1000, maxUs: 9000 } },
        conn: { randomChunking: true },
      });
      await l.drive(async () => {
        const surv = openSurveyor0(l.a, { options: { 'SURVEY-TIME': 100 * MS } });
        await surv.listen('tcp://a:5555');
        for (let i = 0; i < 3; i++) {
          const resp = openRespondent0(l.b);
          await resp.dial('tcp://a:5555');
          void answer(resp, `r${i}`, i * 10 * MS);
        }
        for (let i = 0; i < 5; i++) {
          await surv.send(text(`m${i}`));
          await collect(surv);
        }
      });
      return l.world.trace.hash();
    };
    const h = await run();
    expect(await run()).toBe(h);
  });
});

describe('RESPONDENT', () => {
  it('send before recv, and a second concurrent recv, are ErrProtoState', async () => {
    const { a, drive } = lab('resp-state');
    const r = await drive(async () => {
      const resp = openRespondent0(a, { options: { 'RECV-DEADLINE': 100 * MS } });
      const early = await code(resp.send(text('x')));
      const first = code(resp.recv());
      const second = await code(resp.recv());
      return [early, second, await first];
    });
    expect(r).toEqual(['ErrProtoState', 'ErrProtoState', 'ErrRecvTimeout']);
  });

  it('echoes the whole backtrace; a stack beyond TTL or without an id word is dropped, the pipe kept', async () => {
    const { a, b, drive } = lab('resp-ttl');
    const replies: number[][] = [];
    const r = await drive(async () => {
      const resp = openRespondent0(a, { options: { TTL: 3 } });
      await resp.listen('tcp://a:5555');
      void answer(resp, 'r');
      const got = b.defer<void>();
      b.connect('tcp://a:5555', (err, conn) => {
        if (err || !conn) return;
        let buf = new Uint8Array(0);
        conn.setHandlers({
          onData: (chunk) => {
            buf = concatBytes([buf, chunk]);
            if (buf.length >= 8 && buf[1] === 0x53) buf = buf.subarray(8);
            while (buf.length >= 8) {
              const len = readU64Number(buf, 0);
              if (buf.length < 8 + len) break;
              replies.push(Array.from(buf.subarray(8, 8 + len)));
              buf = buf.subarray(8 + len);
              got.resolve();
            }
          },
        });
        conn.write(encodeHandshake(98));
        const words = (n: number): Uint8Array => {
          const out = new Uint8Array(n * 4 + 1);
          for (let i = 0; i < n - 1; i++) out.set(encodeU32(i + 1), i * 4);
          out.set(encodeU32(0x80000000 + n), (n - 1) * 4);
          out[n * 4] = 0x21;
          return out;
        };
        conn.write(encodeFrame(new Uint8Array([0, 0, 0, 1, 0, 0, 0, 2]))); // no survey id word
        conn.write(encodeFrame(words(4))); // 4 words > TTL 3
        conn.write(encodeFrame(words(3))); // exactly TTL: answered
      });
      await got.promise;
      await b.sleep(50 * MS);
      return { stats: { ...respondent0Stats(resp)! }, pipes: resp.pipes.size };
    });
    expect(replies).toHaveLength(1);
    expect(replies[0]!.slice(0, 12)).toEqual([0, 0, 0, 1, 0, 0, 0, 2, 0x80, 0, 0, 3]);
    expect(str(new Uint8Array(replies[0]!.slice(12)))).toBe('r:!');
    expect(r).toEqual({ stats: { droppedSurveys: 2, droppedResponses: 0 }, pipes: 1 });
  });

  it('a response after the surveyor disconnected succeeds and is discarded', async () => {
    const { a, b, drive } = lab('resp-gone');
    const r = await drive(async () => {
      const surv = openSurveyor0(a);
      await surv.listen('tcp://a:5555');
      const resp = openRespondent0(b);
      await resp.dial('tcp://a:5555');
      await surv.send(text('bye'));
      await resp.recv();
      await surv.close();
      await b.sleep(100 * MS);
      const sent = await code(resp.send(text('too late')));
      return { sent, dropped: respondent0Stats(resp)!.droppedResponses };
    });
    expect(r).toEqual({ sent: 'ok', dropped: 1 });
  });

  it('a survey without a survey id word closes the pipe with GARBAGE-CLOSES-PIPE (nng)', async () => {
    const { a, b, drive } = lab('resp-garbage-close');
    const r = await drive(async () => {
      const resp = openRespondent0(a, { options: { 'GARBAGE-CLOSES-PIPE': true } });
      await resp.listen('tcp://a:5555');
      b.connect('tcp://a:5555', (err, conn) => {
        if (err || !conn) return;
        conn.setHandlers({});
        conn.write(encodeHandshake(98));
        conn.write(encodeFrame(new Uint8Array([0, 0, 0, 1, 0, 0, 0, 2])));
      });
      await b.sleep(100 * MS);
      return { dropped: respondent0Stats(resp)!.droppedSurveys, pipes: resp.pipes.size };
    });
    expect(r).toEqual({ dropped: 1, pipes: 0 });
  });

  it('responses queue per pipe up to WRITEQ-LEN, then send blocks (SEND-DEADLINE) or BEST-EFFORT drops', async () => {
    const { a, b, drive } = lab('resp-backpressure');
    const r = await drive(async () => {
      const results: Record<string, string[]> = {};
      for (const bestEffort of [false, true]) {
        const port = bestEffort ? 5556 : 5555;
        // A surveyor that sends 40 surveys and never reads the answers.
        rawSpListener(
          b,
          `tcp://b:${port}`,
          98,
          () => undefined,
          (conn) => {
            for (let i = 0; i < 40; i++)
              conn.write(encodeFrame(new Uint8Array([...encodeU32(0x8000_0000 + i), 1])));
            conn.pauseReading();
          },
        );
        const resp = openRespondent0(a, {
          options: { 'WRITEQ-LEN': 2, 'SEND-DEADLINE': 100 * MS, 'BEST-EFFORT': bestEffort },
        });
        await resp.dial(`tcp://b:${port}`);
        const big = new Uint8Array(64 * 1024);
        const codes: string[] = [];
        for (let i = 0; i < 40; i++) {
          await resp.recv();
          codes.push(await code(resp.send(big)));
        }
        results[bestEffort ? 'bestEffort' : 'blocking'] = [...new Set(codes)];
        results[`${bestEffort ? 'bestEffort' : 'blocking'}Dropped`] = [
          String(respondent0Stats(resp)!.droppedResponses),
        ];
      }
      return results;
    });
    expect(r.blocking).toEqual(['ok', 'ErrSendTimeout']);
    expect(r.bestEffort).toEqual(['ok']);
    expect(Number(r.bestEffortDropped![0])).toBeGreaterThan(0);
    expect(r.blockingDropped).toEqual(['0']);
  });

  it('TTL: 0, 256 and non-integers are ErrBadValue; SURVEY-TIME is not a respondent option', () => {
    const { a } = lab('resp-opts');
    const resp = openRespondent0(a);
    for (const v of [0, -1, 256, 'garbage', 1.5]) {
      expect(() => resp.setOption('TTL', v)).toThrowError(
        expect.objectContaining({ code: 'ErrBadValue' }) as Error,
      );
    }
    expect(() => resp.setOption('SURVEY-TIME', 5)).toThrowError(
      expect.objectContaining({ code: 'ErrBadOption' }) as Error,
    );
    expect(() => openXSurveyor0(a).openContext()).toThrowError(
      expect.objectContaining({ code: 'ErrProtoOp' }) as Error,
    );
  });
});

describe('raw SURVEYOR/RESPONDENT and devices', () => {
  async function chain(respTtl: number): Promise<{ got: string[]; end: string }> {
    const { a, b, drive } = lab(`survey-chain-${respTtl}`);
    return drive(async () => {
      // surveyor -> [xrespondent | device | xsurveyor] -> [xrespondent | device | xsurveyor] -> 2 respondents
      for (let i = 0; i < 2; i++) {
        const resp = openRespondent0(b, { options: { TTL: respTtl } });
        await resp.listen(`tcp://b:${7000 + i}`);
        void answer(resp, `r${i}`);
      }
      const x1 = openXRespondent0(a);
      const y1 = openXSurveyor0(a);
      await x1.listen('tcp://a:6001');
      await y1.dial('tcp://b:7000');
      await y1.dial('tcp://b:7001');
      device(x1, y1);
      const x0 = openXRespondent0(a);
      const y0 = openXSurveyor0(a);
      await x0.listen('tcp://a:6000');
      await y0.dial('tcp://a:6001');
      device(x0, y0);
      const surv = openSurveyor0(a, { options: { 'SURVEY-TIME': 200 * MS } });
      await surv.dial('tcp://a:6000');
      await a.sleep(10 * MS);
      await surv.send(text('deep'));
      return collect(surv);
    });
  }

  it('a survey crosses two devices and every response finds its way back; TTL counts the hops', async () => {
    expect(await chain(3)).toEqual({ got: ['r0:deep', 'r1:deep'], end: 'ErrTimedOut' });
    expect(await chain(2)).toEqual({ got: [], end: 'ErrTimedOut' });
  });

  it('XSURVEYOR sends the header it is given; XRESPONDENT prepends the pipe id and discards short or unknown headers', async () => {
    const { a, b, drive } = lab('survey-raw');
    const r = await drive(async () => {
      const xr = openXRespondent0(a);
      await xr.listen('tcp://a:5555');
      const xs = openXSurveyor0(b, { options: { 'RECV-DEADLINE': 200 * MS } });
      await xs.dial('tcp://a:5555');
      await b.sleep(10 * MS);
      await xs.sendMsg({ header: encodeU32(0x8000_1234), body: text('raw?') });
      const m = await xr.recvMsg();
      const short = await code(xr.sendMsg({ header: new Uint8Array([1, 2]), body: text('x') }));
      const unknown = await code(
        xr.sendMsg({ header: new Uint8Array([0, 0, 0x7f, 0x7f, ...m.header.subarray(4)]), body: text('y') }),
      );
      const missed = await code(xs.recvMsg());
      await xr.sendMsg({ header: m.header, body: text('raw!') });
      const back = await xs.recvMsg();
      return {
        headerWords: m.header.length / 4,
        surveyId: readU32(m.header, 4),
        body: str(m.body),
        short,
        unknown,
        missed,
        backHeader: readU32(back.header),
        backBody: str(back.body),
        dropped: rawSurveyStats(xr)!.droppedSends,
      };
    });
    expect(r).toEqual({
      headerWords: 2,
      surveyId: 0x8000_1234,
      body: 'raw?',
      short: 'ok',
      unknown: 'ok',
      missed: 'ErrRecvTimeout',
      backHeader: 0x8000_1234,
      backBody: 'raw!',
      dropped: 2,
    });
  });

  it('XRESPONDENT discards a response to a pipe that has gone, counting it', async () => {
    const { a, b, drive } = lab('survey-raw-gone');
    const dropped = await drive(async () => {
      const xr = openXRespondent0(a);
      await xr.listen('tcp://a:5555');
      const xs = openXSurveyor0(b);
      await xs.dial('tcp://a:5555');
      await b.sleep(10 * MS);
      await xs.sendMsg({ header: encodeU32(0x8000_0001), body: text('s') });
      const m = await xr.recvMsg();
      await xs.close();
      await a.sleep(10 * MS); // the pipe is detached
      await xr.sendMsg({ header: m.header, body: text('late') });
      return rawSurveyStats(xr)!.droppedSends;
    });
    expect(dropped).toBe(1);
  });

  it('XSURVEYOR counts the surveys a stalled pipe had no room for (WRITEQ-LEN)', async () => {
    const { a, b, drive } = lab('survey-raw-full');
    const r = await drive(async () => {
      const xs = openXSurveyor0(a, { options: { 'WRITEQ-LEN': 1 } });
      await xs.listen('tcp://a:5555');
      await rawPeer(b, 'tcp://a:5555', 0x63, true); // a RESPONDENT that reads nothing
      await a.sleep(10 * MS);
      const big = new Uint8Array(1 << 20); // fills the connection: the pipe stays busy
      for (let i = 0; i < 4; i++) await xs.sendMsg({ header: encodeU32(0x8000_0001 + i), body: big });
      return rawSurveyStats(xs)!.droppedSends;
    });
    expect(r).toBe(2); // the first went to the pipe, the second waits in its queue of 1
  });
});
