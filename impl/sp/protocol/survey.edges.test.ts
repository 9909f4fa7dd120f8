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
import { openRespondent0, openSurveyor0, respondent0Stats } from './survey.js';

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
