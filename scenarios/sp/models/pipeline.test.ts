import { describe, expect, it } from 'vitest';
import { pipelineModel } from './pipeline.js';
import { LogBuilder, msg } from './testing.js';

/** Two pullers attached and ready. */
function twoReady(): LogBuilder {
  return new LogBuilder().attach(1).readyStep(1).attach(2).readyStep(2);
}

describe('the PUSH model', () => {
  it('accepts round-robin over ready pipes, in order', () => {
    const b = twoReady()
      .at(1)
      .send(msg(0), (x) => x.out(1, msg(0)))
      .send(msg(1), (x) => x.out(2, msg(1)))
      .send(msg(2))
      .at(2)
      .readyStep(2, (x) => x.out(2, msg(2)));
    expect(pipelineModel(b.run('push0'))).toBeNull();
  });

  it('accepts either ready pipe for the first message (round-robin start is free)', () => {
    const b = twoReady().send(msg(0), (x) => x.out(2, msg(0)));
    expect(pipelineModel(b.run('push0'))).toBeNull();
  });

  it('rejects a message sent to a pipe that is not attached', () => {
    const b = twoReady().send(msg(0), (x) => x.out(3, msg(0)));
    expect(pipelineModel(b.run('push0'))).toMatch(/not attached/);
  });

  it('rejects a message sent twice', () => {
    const b = twoReady().send(msg(0), (x) => x.out(1, msg(0)).out(2, msg(0)));
    expect(pipelineModel(b.run('push0'))).toMatch(/no message the application sent/);
  });

  it('rejects a message waiting for a busy pipe while another is idle', () => {
    const b = new LogBuilder()
      .attach(1)
      .readyStep(1)
      .send(msg(0), (x) => x.out(1, msg(0)))
      .attach(2)
      .readyStep(2)
      .send(msg(1));
    expect(pipelineModel(b.run('push0'))).toMatch(/waiting .* while pipe 2 was idle/);
  });

  it('rejects a message to a busy pipe', () => {
    const b = twoReady()
      .send(msg(0), (x) => x.out(1, msg(0)))
      .send(msg(1), (x) => x.out(1, msg(1)));
    expect(pipelineModel(b.run('push0'))).toMatch(/still busy/);
  });

  it('rejects a pipe getting two messages while another waited idle', () => {
    const b = twoReady()
      .send(msg(0), (x) => x.out(1, msg(0), true))
      .send(msg(1), (x) => x.out(1, msg(1), true));
    expect(pipelineModel(b.run('push0'))).toMatch(/not round-robin/);
  });

  it('rejects a dropped message (a later one went out, the earlier never failed)', () => {
    const b = new LogBuilder()
      .attach(1)
      .send(msg(0))
      .send(msg(1))
      .readyStep(1, (x) => x.out(1, msg(1)));
    expect(pipelineModel(b.run('push0'))).toMatch(/before #0/);
  });

  it('lets a failed send vanish', () => {
    const b = new LogBuilder().attach(1);
    b.send(msg(0), undefined, undefined, { mayVanish: true, goneAtUs: 5 })
      .send(msg(1))
      .at(6)
      .readyStep(1, (x) => x.out(1, msg(1)));
    expect(pipelineModel(b.run('push0'))).toBeNull();
  });

  it('rejects a corrupted message', () => {
    const b = twoReady().send(msg(0), (x) => x.out(1, msg(9)));
    expect(pipelineModel(b.run('push0'))).toMatch(/corrupted/);
  });

  it('stops judging the queue once the socket closed', () => {
    const b = new LogBuilder().attach(1).send(msg(0)).close().readyStep(1);
    expect(pipelineModel(b.run('push0'))).toBeNull();
  });
});

describe('the PULL model', () => {
  it('accepts arrivals delivered in arrival order across pipes', () => {
    const b = new LogBuilder()
      .attach(1)
      .attach(2)
      .in(1, msg(0))
      .in(2, msg(1))
      .at(5)
      .recv(msg(0), 1)
      .recv(msg(1), 2);
    expect(pipelineModel(b.run('pull0', { app: 'sink' }))).toBeNull();
  });

  it('rejects reordering, duplication, and a message from nowhere', () => {
    const base = (): LogBuilder => new LogBuilder().attach(1).in(1, msg(0)).in(1, msg(1)).at(5);
    expect(pipelineModel(base().recv(msg(1), 1).recv(msg(0), 1).run('pull0', { app: 'sink' }))).toMatch(
      /reordered/,
    );
    expect(pipelineModel(base().recv(msg(0), 1).recv(msg(0), 1).run('pull0', { app: 'sink' }))).toMatch(
      /duplicated/,
    );
    expect(
      pipelineModel(base().recv(msg(0), 1).recv(msg(1), 1).recv(msg(2), 1).run('pull0', { app: 'sink' })),
    ).toMatch(/only 2/);
  });

  it('rejects a drop: an arrival never delivered though the run ended calmly', () => {
    const b = new LogBuilder().attach(1).in(1, msg(0)).in(1, msg(1)).at(5).recv(msg(0), 1);
    expect(pipelineModel(b.run('pull0', { app: 'sink' }))).toMatch(/never delivered/);
    expect(pipelineModel(b.run('pull0', { app: 'sink', ranToEnd: false }))).toBeNull();
  });

  it('ignores frames of a pipe that is not attached (refused)', () => {
    const b = new LogBuilder().attach(1).in(2, msg(7)).in(1, msg(0)).at(5).recv(msg(0), 1);
    expect(pipelineModel(b.run('pull0', { app: 'sink' }))).toBeNull();
  });
});
