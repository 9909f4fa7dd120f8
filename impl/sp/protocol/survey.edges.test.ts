/**
 * SURVEYOR0 / RESPONDENT0 trace edges the mutation sample found untested: the fields a traced
 * survey and response carry (sim/TRACE.md: `fields`, `corr`, `answer`), and the notes that say why
 * a survey or a response was dropped.
 */
import { describe, expect, it } from 'vitest';
import { RingSink, type TraceEvent } from '../../../sim/trace.js';
import { readU32 } from '../../runtime/bytes.js';
import { rawPeer, word } from '../testing/raw-peer.js';
import { lab, str, text } from '../testing/sim-lab.js';
import {
  openRespondent0,
  openSurveyor0,
  openXRespondent0,
  openXSurveyor0,
  rawSurveyStats,
  respondent0Stats,
} from './survey.js';

const MS = 1000;
const SURVEYOR0 = 0x62;
const RESPONDENT0 = 0x63;

type Ev = TraceEvent & {
  proto?: string;
  msg?: string;
  fields?: unknown;
  corr?: unknown;
  answer?: unknown;
  text?: string;
};

const notes = (ring: RingSink): string[] =>
  ring
    .events()
    .filter((e) => e.kind === 'note')
    .map((e) => String((e as Ev).text));

describe('traced survey exchange', () => {
  it('names the survey id on both sides and marks the response as the answer', async () => {
    const { a, b, world, drive } = lab('survey-trace-fields');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const got = await drive(async () => {
      const surv = openSurveyor0(a);
      const resp = openRespondent0(b);
      await surv.listen('tcp://a:5555');
      await resp.dial('tcp://a:5555');
      await a.sleep(1 * MS);
      await surv.send(text('q'));
      expect(str(await resp.recv())).toBe('q');
      await resp.send(text('r'));
      return str(await surv.recv());
    });
    expect(got).toBe('r');
    const evs = ring.events() as Ev[];
    const sent = evs.find((e) => e.kind === 'msg-send' && e.proto === 'surveyor0' && e.msg === 'survey');
    const id = sent?.corr;
    expect(typeof id).toBe('number');
    expect(sent).toMatchObject({
      bytes: 5,
      fields: [{ name: 'survey-id', offset: 0, length: 4, value: id }],
    });
    expect(sent?.answer).toBeUndefined();
    const answer = evs.find((e) => e.kind === 'msg-send' && e.proto === 'respondent0' && e.msg !== 'frame');
    expect(answer).toMatchObject({
      msg: 'response',
      bytes: 5,
      corr: id,
      answer: true,
      fields: [{ name: 'survey-id', offset: 0, length: 4, value: id }],
    });
    const survey = evs.find((e) => e.kind === 'msg-recv' && e.proto === 'respondent0' && e.msg !== 'frame');
    expect(survey).toMatchObject({
      msg: 'survey',
      corr: id,
      fields: [
        { name: 'backtrace-words', offset: 0, length: 4, value: 1 },
        { name: 'survey-id', offset: 0, length: 4, value: id },
      ],
    });
    expect(survey?.answer).toBeUndefined();
    const response = evs.find((e) => e.kind === 'msg-recv' && e.proto === 'surveyor0' && e.msg !== 'frame');
    expect(response).toMatchObject({
      msg: 'response',
      corr: id,
      answer: true,
      fields: [{ name: 'survey-id', offset: 0, length: 4, value: id }],
    });
  });
});

describe('dropped surveys and responses are noted', () => {
  it('RESPONDENT0: a survey without an id within TTL words', async () => {
    const { a, b, world, drive } = lab('respondent-drop-note');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const resp = openRespondent0(a, { options: { TTL: 3 } });
      await resp.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', SURVEYOR0);
      peer.sendFrame(Uint8Array.of(1, 2));
      await a.sleep(10 * MS);
    });
    expect(notes(ring)).toContain(
      'sp respondent0: dropped a survey (no survey id within 3 words, or garbage)',
    );
  });

  it('SURVEYOR0: a short response, one without the top bit, and one to an unknown survey', async () => {
    const { a, b, world, drive } = lab('surveyor-drop-notes');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const surv = openSurveyor0(a);
      await surv.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', RESPONDENT0);
      await a.sleep(1 * MS);
      await surv.send(text('q'));
      await a.sleep(10 * MS);
      const id = readU32(peer.frames[0]!, 0);
      peer.sendFrame(Uint8Array.of(1, 2));
      peer.sendFrame(word(1)); // exactly 4 bytes: long enough, but no top bit
      peer.sendFrame(word((id ^ 1) >>> 0, 'x'));
      await a.sleep(10 * MS);
    });
    const n = notes(ring).filter((t) => t.startsWith('sp surveyor0'));
    expect(n).toHaveLength(3);
    expect(n[0]).toBe('sp surveyor0: dropped a response (shorter than 4 bytes)');
    expect(n[1]).toBe('sp surveyor0: dropped a response (no top bit)');
    expect(n[2]).toMatch(/^sp surveyor0: dropped a response to survey [0-9a-f]{8} \(stale or unknown\)$/);
  });
});

describe('RESPONDENT response to a pipe that has gone (seed-5 survivor survey.ts:449)', () => {
  it('the send succeeds, the response is counted dropped and not traced as sent', async () => {
    const { a, b, world, drive } = lab('resp-gone');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const r = await drive(async () => {
      const resp = openRespondent0(a);
      await resp.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', SURVEYOR0);
      peer.sendFrame(word(0x80000001, 's'));
      const got = str(await resp.recv());
      peer.conn.close();
      await a.sleep(10 * MS); // the respondent sees its pipe close
      await resp.send(text('late'));
      await a.sleep(10 * MS);
      return { got, dropped: respondent0Stats(resp)!.droppedResponses };
    });
    expect(r).toEqual({ got: 's', dropped: 1 });
    const responses = (ring.events() as Ev[]).filter((e) => e.kind === 'msg-send' && e.msg === 'response');
    expect(responses).toEqual([]);
  });
});

describe('raw survey stats', () => {
  it('XSURVEYOR drops a frame shorter than a survey id and delivers the next with its id as header', async () => {
    const { a, b, drive } = lab('xsurveyor-stats');
    const r = await drive(async () => {
      const xs = openXSurveyor0(a, { options: { 'RECV-DEADLINE': 100 * MS } });
      await xs.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', RESPONDENT0);
      await a.sleep(1 * MS);
      peer.sendFrame(Uint8Array.of(0x80, 0));
      peer.sendFrame(word(0x80000007)); // an id alone: an empty response
      peer.sendFrame(word(0x80000007, 'ok'));
      const got: string[] = [];
      for (let i = 0; i < 2; i++) {
        const m = await xs.recvMsg();
        got.push(`${readU32(m.header, 0).toString(16)} '${str(m.body)}'`);
      }
      return { got, stats: { ...rawSurveyStats(xs)! } };
    });
    expect(r).toEqual({
      got: ["80000007 ''", "80000007 'ok'"],
      stats: { droppedSends: 0, droppedReceived: 1 },
    });
  });

  it('XRESPONDENT drops a survey without an id word, and a send with a short header or an unknown pipe', async () => {
    const { a, b, drive } = lab('xrespondent-stats');
    const r = await drive(async () => {
      const xr = openXRespondent0(a, { options: { 'RECV-DEADLINE': 100 * MS } });
      await xr.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', SURVEYOR0);
      await a.sleep(1 * MS);
      peer.sendFrame(word(7, 'no id'));
      peer.sendFrame(word(0x80000009, 's'));
      const m = await xr.recvMsg();
      await xr.sendMsg({ header: Uint8Array.of(1, 2), body: text('short') });
      await xr.sendMsg({ header: word(12345), body: word(0x80000009, 'nobody') });
      await xr.sendMsg({ header: m.header, body: text('answer') });
      await xr.sendMsg({ header: m.header.subarray(0, 4), body: new Uint8Array(0) }); // the pipe id alone
      await a.sleep(10 * MS);
      return {
        body: str(m.body),
        stats: { ...rawSurveyStats(xr)! },
        frames: peer.frames.map((f) =>
          f.length < 4 ? `${f.length} bytes` : `${readU32(f, 0).toString(16)} ${str(f.subarray(4))}`,
        ),
      };
    });
    expect(r).toEqual({
      body: 's',
      stats: { droppedSends: 2, droppedReceived: 1 },
      frames: ['80000009 answer', '0 bytes'],
    });
  });
});

describe('XRESPONDENT TTL', () => {
  it('its own hop counts: with TTL 2 a survey that already crossed a device is dropped', async () => {
    const { a, b, drive } = lab('xrespondent-ttl');
    const r = await drive(async () => {
      const xr = openXRespondent0(a, { options: { TTL: 2, 'RECV-DEADLINE': 100 * MS } });
      await xr.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', SURVEYOR0);
      await a.sleep(1 * MS);
      peer.sendFrame(Uint8Array.of(...word(5), ...word(0x8000000a, 'deep')));
      peer.sendFrame(word(0x8000000b, 'top'));
      const m = await xr.recvMsg();
      return { body: str(m.body), dropped: rawSurveyStats(xr)!.droppedReceived };
    });
    expect(r).toEqual({ body: 'top', dropped: 1 });
  });
});

describe('RESPONDENT receive deadline', () => {
  it('names what did not arrive: no survey within RECV-DEADLINE', async () => {
    const { a, drive } = lab('resp-recv-deadline');
    const r = await drive(async () => {
      const resp = openRespondent0(a, { options: { 'RECV-DEADLINE': 7 * MS } });
      await resp.listen('tcp://a:5555');
      const t0 = a.nowUs();
      try {
        await resp.recv();
        return 'ok';
      } catch (e) {
        return `${e instanceof Error ? e.message : String(e)} after ${a.nowUs() - t0} us`;
      }
    });
    expect(r).toBe('ErrRecvTimeout: no survey within 7000 us after 7000 us');
  });
});
