import { describe, expect, it } from 'vitest';
import { surveyorModel } from './survey.js';
import { LogBuilder, msg, word } from './testing.js';

const A = 0x8000_0001;
const B = 0x8000_0002;
function response(id: number, body: Uint8Array): Uint8Array {
  const b = new Uint8Array(4 + body.length);
  b.set(word(id));
  b.set(body, 4);
  return b;
}

/** Two respondents; survey A out to both, then (at 10) survey B. */
function twoSurveys(): LogBuilder {
  return new LogBuilder()
    .attach(1)
    .readyStep(1)
    .attach(2)
    .readyStep(2)
    .send(msg(0), (x) => x.out(1, msg(0), true, word(A)).out(2, msg(0), true, word(A)));
}

describe('the SURVEYOR model', () => {
  it('accepts responses to the current survey', () => {
    const b = twoSurveys()
      .at(1)
      .in(1, response(A, msg(0)))
      .in(2, response(A, msg(0)))
      .recv(msg(0), 1, { replyTo: 0 })
      .recv(msg(0), 2, { replyTo: 0 });
    expect(surveyorModel(b.run('surveyor0'))).toBeNull();
  });

  it('rejects a response delivered to a survey it did not answer, or that arrived after the next survey', () => {
    const stale = twoSurveys()
      .at(10)
      .send(msg(1), (x) => x.out(1, msg(1), true, word(B)).out(2, msg(1), true, word(B)))
      .at(11)
      .in(1, response(A, msg(0)))
      .recv(msg(0), 1, { replyTo: 1 });
    expect(surveyorModel(stale.run('surveyor0'))).toMatch(/survey #1/);
    const late = twoSurveys()
      .at(10)
      .send(msg(1), (x) => x.out(1, msg(1), true, word(B)).out(2, msg(1), true, word(B)))
      .at(11)
      .in(1, response(A, msg(0)))
      .recv(msg(0), 1, { replyTo: 0 });
    expect(surveyorModel(late.run('surveyor0'))).toMatch(/survey #0/);
  });

  it('rejects a response delivered twice', () => {
    const b = twoSurveys()
      .at(1)
      .in(1, response(A, msg(0)))
      .recv(msg(0), 1, { replyTo: 0 })
      .recv(msg(0), 1, { replyTo: 0 });
    expect(surveyorModel(b.run('surveyor0'))).toMatch(/duplicated/);
  });

  it('rejects one survey going out with two ids, or a reused id', () => {
    const two = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .attach(2)
      .readyStep(2)
      .send(msg(0), (x) => x.out(1, msg(0), true, word(A)).out(2, msg(0), true, word(B)));
    expect(surveyorModel(two.run('surveyor0'))).toMatch(/then with/);
    const reused = twoSurveys()
      .at(10)
      .send(msg(1), (x) => x.out(1, msg(1), true, word(A)).out(2, msg(1), true, word(A)));
    expect(surveyorModel(reused.run('surveyor0'))).toMatch(/reused/);
  });

  it('rejects a survey skipping an idle respondent', () => {
    const b = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .attach(2)
      .readyStep(2)
      .send(msg(0), (x) => x.out(1, msg(0), true, word(A)));
    expect(surveyorModel(b.run('surveyor0'))).toMatch(/pipe 2 was idle/);
  });
});
