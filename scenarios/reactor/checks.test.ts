/** The reactor checks on hand-made observations: each names the violation it exists for. */
import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../stack.js';
import { BALANCE_SPREAD, callbackViolation, IDLE_TIMEOUT, LOOP_ISOLATION } from './checks.js';
import type { CallbackEvent, ReactorObservations, ServerConnObs } from './observations.js';
import { defineReactorScenario } from './run.js';

function conn(events: [CallbackEvent['ev'], number?][], over: Partial<ServerConnObs> = {}): ServerConnObs {
  return {
    server: 'server',
    id: 1,
    loop: 0,
    remote: 'tcp://client0:1',
    openedUs: 0,
    events: events.map(([ev, arg], i) => (arg === undefined ? { ev, atUs: i } : { ev, atUs: i, arg })),
    requests: [],
    waits: [],
    bytesIn: 0,
    consumed: 0,
    maxChunkBytes: 0,
    maxHeldAfterRead: 0,
    unpausedOverHigh: 0,
    readPauses: 0,
    lastByteUs: 0,
    shortWrites: 0,
    interestWithoutBytes: 0,
    bytesWithoutInterest: 0,
    maxUnconsumedStreak: 0,
    unconsumedStreak: 0,
    closeAtUs: null,
    closeReason: null,
    unsentAtClose: 0,
    readTimeoutsCounted: 0,
    idleTimeoutUs: 0,
    inRequest: false,
    head: [],
    ...over,
  };
}

const ctx: CheckContext = {
  endUs: 1_000_000,
  healedAtUs: 0,
  faults: [],
  reason: 'until',
  lossy: false,
  crash: null,
};

function scenario(options: Record<string, unknown> = {}) {
  return defineReactorScenario({
    hosts: ['server', 'client0'],
    servers: [{ name: 'server', host: 'server', listen: 'tcp://server:7000', options }],
    clients: [{ name: 'client0', host: 'client0', connect: 'tcp://server:7000', actions: [] }],
  });
}

function obsWith(
  k: ServerConnObs,
  extra: Partial<ReactorObservations['servers'][string]> = {},
): ReactorObservations {
  return {
    clients: {},
    servers: {
      server: {
        name: 'server',
        host: 'server',
        boots: 1,
        listenErrors: [],
        listeningAtUs: 0,
        conns: [k],
        charges: [],
        assignments: [],
        ...extra,
      },
    },
    crash: null,
  };
}

describe('reactor checks', () => {
  const ok: [CallbackEvent['ev'], number?][] = [
    ['prepare'],
    ['connect-start'],
    ['connect-end'],
    ['request-start'],
    ['request-end', 3],
    ['disconnect'],
    ['close-cb', 1],
    ['close-cb', 0],
  ];

  it('callback order: the right order passes, every kind of slip is named', () => {
    expect(callbackViolation(conn(ok), true)).toBeNull();
    const swap = (i: number, e: [CallbackEvent['ev'], number?]) => ok.map((x, j) => (j === i ? e : x));
    expect(callbackViolation(conn(swap(4, ['request-start'])), true)).toMatch(/another was running/);
    expect(callbackViolation(conn(swap(2, ['request-start'])), true)).toMatch(/before onConnect ended/);
    expect(callbackViolation(conn([...ok, ['close-cb', 0]]), true)).toMatch(/\[1, 0, 0\]/);
    expect(callbackViolation(conn(swap(6, ['close-cb', 0]).slice(0, 7)), true)).toMatch(/LIFO/);
    expect(callbackViolation(conn([...ok, ['disconnect']]), true)).toMatch(
      /2 times|before onDisconnect|ran as/,
    );
  });

  it('idle timeout: exactly on time passes; early, late and never fail', () => {
    const s = scenario({ idleTimeoutUs: 10_000 });
    const at = (closeAtUs: number | null, reason: string | null) =>
      IDLE_TIMEOUT.evaluate(
        s,
        obsWith(conn(ok, { idleTimeoutUs: 10_000, lastByteUs: 5000, closeAtUs, closeReason: reason })),
        ctx,
      ).status;
    expect(at(15_000, 'idle-timeout')).toBe('pass');
    expect(at(14_999, 'idle-timeout')).toBe('fail');
    expect(at(16_001, 'idle-timeout')).toBe('fail');
    expect(at(40_000, 'peer-closed')).toBe('fail');
    expect(
      IDLE_TIMEOUT.evaluate(s, obsWith(conn(ok.slice(0, 5), { idleTimeoutUs: 10_000 })), ctx).status,
    ).toBe('fail');
  });

  it('balance: round-robin counts within one, least-connections to an emptiest loop', () => {
    const rr = scenario({ loops: 2 });
    const assigned = (loops: number[]) => loops.map((loop) => ({ loop, openBefore: [0, 0] }));
    expect(
      BALANCE_SPREAD.evaluate(rr, obsWith(conn(ok), { assignments: assigned([0, 1, 0]) }), ctx).status,
    ).toBe('pass');
    expect(
      BALANCE_SPREAD.evaluate(rr, obsWith(conn(ok), { assignments: assigned([0, 0]) }), ctx).status,
    ).toBe('fail');
    const lc = scenario({ loops: 2, loadBalance: 'least-connections' });
    expect(
      BALANCE_SPREAD.evaluate(lc, obsWith(conn(ok), { assignments: [{ loop: 1, openBefore: [0, 1] }] }), ctx)
        .status,
    ).toBe('fail');
  });

  it('loop isolation: a request may wait for its own loop, not for another', () => {
    const s = scenario({ loops: 2 });
    const k = conn(ok, { loop: 0, requests: [{ dueUs: 100, startUs: 5100 }] });
    const own = obsWith(k, { charges: [{ loop: 0, atUs: 100, us: 5000 }] });
    const other = obsWith(k, { charges: [{ loop: 1, atUs: 100, us: 5000 }] });
    expect(LOOP_ISOLATION.evaluate(s, own, ctx).status).toBe('pass');
    expect(LOOP_ISOLATION.evaluate(s, other, ctx).status).toBe('fail');
  });
});
