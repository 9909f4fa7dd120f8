import { describe, expect, it } from 'vitest';
import '../museum/index.js';
import { checkById, type CheckContext, type Observations, type SocketObs } from '../checks.js';
import { defineScenario, type SocketDraft } from '../define.js';
import type { Scenario } from '../model.js';
import { checkFamilyProperty } from './testing.js';
import { hostOf, judgeDeadline, TIMING, TIMING_PROPERTIES, timerArb } from './timing.js';
import fc from 'fast-check';

/** An empty observation record of a socket (what the runner starts each socket with). */
function blank(name: string, protocol: string): SocketObs {
  return {
    name,
    host: name,
    protocol,
    sent: [],
    received: [],
    dials: [],
    pipes: [],
    reqSends: [],
    endpoints: { connections: 0, attached: 0, badHandshakes: 0, rejected: 0, badFrames: 0 },
    req: null,
    strayReplies: 0,
    maxReplyQueue: 0,
    closedAtUs: null,
    maxSendQ: 0,
    maxRecvQ: 0,
    maxAllocBytes: 0,
    badAllocRequests: 0,
    errors: [],
    opened: 1,
    doneAtUs: null,
    wire: [],
  };
}

function scenario(
  sockets: readonly SocketDraft[],
  extra: Partial<Parameters<typeof defineScenario>[0]> = {},
): Scenario {
  return defineScenario({
    hosts: [...new Set(sockets.map((s) => s.host))],
    sockets,
    workload: { sends: [] },
    faultPhaseUs: 1_000_000,
    livenessUs: 9_000_000,
    checks: ['stack.no-crash'],
    ...extra,
  });
}

/** A run that ended at 10 s with no faults. */
const ctx: CheckContext = {
  endUs: 10_000_000,
  healedAtUs: 1_000_000,
  faults: [],
  reason: 'until',
  crash: null,
  lossy: false,
  payloadOf: () => new Uint8Array(0),
};

function status(id: string, s: Scenario, obs: Observations): string {
  return checkById(id)!.evaluate(s, obs, ctx).status;
}

function obsOf(...sockets: SocketObs[]): Observations {
  return { sockets: Object.fromEntries(sockets.map((o) => [o.name, o])), raw: {}, crash: null };
}

const dialer = (options: NonNullable<SocketDraft['options']>): SocketDraft => ({
  name: 'client0',
  host: 'client0',
  protocol: 'pair0',
  dial: ['tcp://server:5555'],
  options,
  app: { kind: 'sink' },
});
const server: SocketDraft = {
  name: 'server',
  host: 'server',
  protocol: 'pair0',
  listen: ['tcp://server:5555'],
  app: { kind: 'sink' },
};

/** Dial attempts [start, end] (end null: still open at the end; `attachAt`: a pipe attached then). */
function attempts(o: SocketObs, spans: [number, number | null][], attachAt?: number): SocketObs {
  o.dials = spans.map(([atUs, endUs]) => ({ atUs, endUs, address: 'tcp://server:5555', connected: false }));
  if (attachAt !== undefined) o.pipes = [{ atUs: attachAt, event: 'attached', pipe: 1 }];
  return o;
}

describe('timing family', () => {
  it('has its properties and checks', () => {
    expect(TIMING.properties.map((p) => p.id)).toEqual([
      'timing/redial',
      'timing/resend',
      'timing/survey',
      'timing/deadlines',
      'timing/handshake',
    ]);
    for (const p of TIMING_PROPERTIES)
      for (const c of p.checks.filter((x) => x.startsWith('timing.'))) expect(checkById(c), c).toBeDefined();
  });

  it('draws timer values at their edges with real weight', () => {
    const xs = fc.sample(timerArb({ minUs: 1, typical: [1_000, 2_000], large: [10_000, 20_000] }), {
      seed: 3,
      numRuns: 400,
    });
    expect(xs.filter((x) => x === 1).length).toBeGreaterThan(25);
    expect(xs.filter((x) => x === 2).length).toBeGreaterThan(25);
    expect(xs.filter((x) => x >= 10_000).length).toBeGreaterThan(50);
  });

  it('reads the host of a remote address', () => {
    expect(hostOf('tcp://raw0:49152')).toBe('raw0');
    expect(hostOf('raw1:7')).toBe('raw1');
  });
});

describe('timing.redial-schedule on hand-made observations', () => {
  const s = scenario([server, dialer({ 'RECONNECT-TIME': 100_000, 'MAX-RECONNECT-TIME': 400_000 })]);
  const sNoGrowth = scenario([server, dialer({ 'RECONNECT-TIME': 100_000, 'MAX-RECONNECT-TIME': 0 })]);
  const id = 'timing.redial-schedule';

  it('passes the exact schedule: 100 ms, grown x1.1..x1.5, capped, reset after an attach', () => {
    // Gaps: 100 (first), 130 (x1.3), 169 (x1.3), 219.7 (x1.3), 285.6 (x1.3), then attach, then 100.
    const o = attempts(
      blank('client0', 'pair0'),
      [
        [0, 1_000],
        [101_000, 102_000],
        [232_000, 233_000],
        [402_000, 403_000],
        [622_700, 623_700],
        [909_300, 1_500_000],
        [1_600_000, null],
      ],
      909_500,
    );
    expect(status(id, s, obsOf(o))).toBe('pass');
  });

  it('fails a first wait that is not exactly RECONNECT-TIME (grown before it was waited)', () => {
    const o = attempts(blank('client0', 'pair0'), [
      [0, 1_000],
      [131_000, 132_000],
    ]);
    expect(status(id, s, obsOf(o))).toBe('fail');
  });

  it('fails a wait 1 µs late', () => {
    const o = attempts(blank('client0', 'pair0'), [
      [0, 1_000],
      [101_001, 102_000],
    ]);
    expect(status(id, s, obsOf(o))).toBe('fail');
  });

  it('fails growth beyond x1.5 (doubling) and a wait not reset after an attach', () => {
    const doubling = attempts(blank('client0', 'pair0'), [
      [0, 1_000],
      [101_000, 102_000],
      [302_000, 303_000],
    ]);
    expect(status(id, s, obsOf(doubling))).toBe('fail');
    const noReset = attempts(
      blank('client0', 'pair0'),
      [
        [0, 1_000],
        [101_000, 102_000],
        [232_000, 500_000],
        [669_000, 670_000],
      ],
      232_500,
    );
    expect(status(id, s, obsOf(noReset))).toBe('fail');
  });

  it('with MAX-RECONNECT-TIME 0 every wait is RECONNECT-TIME; growth is a finding', () => {
    const flat = attempts(blank('client0', 'pair0'), [
      [0, 1_000],
      [101_000, 102_000],
      [202_000, null],
    ]);
    expect(status(id, sNoGrowth, obsOf(flat))).toBe('pass');
    expect(status(id, s, obsOf(flat))).toBe('fail'); // with a cap it must grow
    const grown = attempts(blank('client0', 'pair0'), [
      [0, 1_000],
      [101_000, 102_000],
      [232_000, 233_000],
    ]);
    expect(status(id, sNoGrowth, obsOf(grown))).toBe('fail');
  });

  it('fails a redial that never comes, and is not applicable without attempts', () => {
    const gone = attempts(blank('client0', 'pair0'), [[0, 1_000]]);
    expect(status(id, s, obsOf(gone))).toBe('fail');
    expect(status(id, s, obsOf(blank('client0', 'pair0')))).toBe('not-applicable');
  });
});

describe('timing.resend-schedule on hand-made observations', () => {
  const req = (retryUs: number): Scenario =>
    scenario([
      {
        name: 'server',
        host: 'server',
        protocol: 'rep0',
        listen: ['tcp://server:5555'],
        app: { kind: 'sink' },
      },
      {
        name: 'client0',
        host: 'client0',
        protocol: 'req0',
        dial: ['tcp://server:5555'],
        options: { 'RETRY-TIME': retryUs },
        app: { kind: 'send' },
      },
    ]);
  const id = 'timing.resend-schedule';

  function client(tx: number[], waitEnd: number | null = null): SocketObs {
    const o = blank('client0', 'req0');
    o.sent = [
      {
        index: 0,
        bytes: 4,
        atUs: 0,
        acceptedAtUs: 0,
        error: null,
        errorCode: null,
        failedAtUs: null,
        queuedBefore: 0,
      },
    ];
    o.reqSends = tx.map((atUs) => ({ atUs, id: 0x80000001, pipe: 1, request: 0 }));
    o.recvCalls = [{ atUs: 0, endUs: waitEnd, code: waitEnd === null ? null : 'ErrRecvTimeout', index: 0 }];
    o.pipes = [{ atUs: 0, event: 'attached', pipe: 1 }];
    return o;
  }

  it('passes a transmission every RETRY-TIME while the application waits', () => {
    expect(status(id, req(100_000), obsOf(client([0, 100_000, 200_000, 300_000], 350_000)))).toBe('pass');
  });

  it('fails a resend missing after the first one (a timer armed once)', () => {
    expect(status(id, req(100_000), obsOf(client([0, 100_000], 350_000)))).toBe('fail');
  });

  it('fails an early resend, and one 1 µs late', () => {
    expect(status(id, req(100_000), obsOf(client([0, 60_000], 90_000)))).toBe('fail');
    expect(status(id, req(100_000), obsOf(client([0, 100_001], 150_000)))).toBe('fail');
  });

  it('does not judge after the wait ended (a reply may have come unseen)', () => {
    expect(status(id, req(100_000), obsOf(client([0, 100_000], 150_000)))).toBe('pass');
  });

  it('after a pipe loss, the request goes out when the next pipe attaches, not after RETRY-TIME', () => {
    const at = (tx: number[]): SocketObs => {
      const o = client(tx, 900_000);
      o.pipes.push(
        { atUs: 10_000, event: 'detached', pipe: 1 },
        { atUs: 60_000, event: 'attached', pipe: 2 },
      );
      return o;
    };
    expect(status(id, req(500_000), obsOf(at([0, 60_000, 560_000])))).toBe('pass');
    expect(status(id, req(500_000), obsOf(at([0, 500_000])))).toBe('fail');
  });

  it('with RETRY-TIME 0 a request goes out once', () => {
    expect(status(id, req(0), obsOf(client([0], 350_000)))).toBe('pass');
    expect(status(id, req(0), obsOf(client([0, 1_000], 350_000)))).toBe('fail');
  });
});

describe('timing.survey-deadline on hand-made observations', () => {
  const s = scenario([
    {
      name: 'server',
      host: 'server',
      protocol: 'surveyor0',
      listen: ['tcp://server:5555'],
      options: { 'SURVEY-TIME': 200_000 },
      app: { kind: 'send' },
    },
  ]);
  const id = 'timing.survey-deadline';

  function surveyor(starts: number[], calls: NonNullable<SocketObs['recvCalls']>): SocketObs {
    const o = blank('server', 'surveyor0');
    o.sent = starts.map((atUs, index) => ({
      index,
      bytes: 0,
      atUs,
      acceptedAtUs: atUs,
      error: null,
      errorCode: null,
      failedAtUs: null,
      queuedBefore: 0,
    }));
    o.recvCalls = calls;
    return o;
  }

  it('passes a receive failing with ErrTimedOut exactly at send + SURVEY-TIME', () => {
    const o = surveyor([0], [{ atUs: 0, endUs: 200_000, code: 'ErrTimedOut', index: 0 }]);
    expect(status(id, s, obsOf(o))).toBe('pass');
  });

  it('fails an expiry at another time (from the first response; the first survey kept for the next)', () => {
    const late = surveyor([0], [{ atUs: 0, endUs: 230_000, code: 'ErrTimedOut', index: 0 }]);
    expect(status(id, s, obsOf(late))).toBe('fail');
    // Survey 1 at 150 ms replaced survey 0; its deadline is 350 ms, not survey 0's 200 ms.
    const notMoved = surveyor(
      [0, 150_000],
      [
        { atUs: 0, endUs: 100_000, code: 'ErrRecvTimeout', index: 0 },
        { atUs: 150_000, endUs: 200_000, code: 'ErrTimedOut', index: 1 },
      ],
    );
    expect(status(id, s, obsOf(notMoved))).toBe('fail');
  });

  it('fails a receive still waiting past the deadline, and a response delivered after it', () => {
    const hung = surveyor([0], [{ atUs: 0, endUs: null, code: null, index: 0 }]);
    expect(status(id, s, obsOf(hung))).toBe('fail');
    const late = surveyor([0], [{ atUs: 0, endUs: 200_000, code: 'ErrTimedOut', index: 0 }]);
    late.received = [{ atUs: 200_001, body: new Uint8Array(0), pipe: 1, replyTo: 0 }];
    expect(status(id, s, obsOf(late))).toBe('fail');
  });
});

describe('deadlines on hand-made observations', () => {
  it('judgeDeadline: exact timeouts pass; late, early or missing ones fail', () => {
    expect(judgeDeadline(10, 110, 'ErrRecvTimeout', 'ErrRecvTimeout', 100, 1_000)).toBeNull();
    expect(judgeDeadline(10, 50, null, 'ErrRecvTimeout', 100, 1_000)).toBeNull();
    expect(judgeDeadline(10, 111, 'ErrRecvTimeout', 'ErrRecvTimeout', 100, 1_000)).toMatch(
      /not at its deadline/,
    );
    expect(judgeDeadline(10, 90, 'ErrRecvTimeout', 'ErrRecvTimeout', 100, 1_000)).toMatch(
      /not at its deadline/,
    );
    expect(judgeDeadline(10, 200, null, 'ErrRecvTimeout', 100, 1_000)).toMatch(/after its deadline/);
    expect(judgeDeadline(10, null, null, 'ErrRecvTimeout', 100, 1_000)).toMatch(/still waiting/);
    expect(judgeDeadline(10, null, null, 'ErrRecvTimeout', 100, 105)).toBeUndefined();
  });

  const pull = scenario([
    {
      name: 'server',
      host: 'server',
      protocol: 'pull0',
      listen: ['tcp://server:5555'],
      options: { 'RECV-DEADLINE': 1_000 },
      app: { kind: 'sink' },
    },
    {
      name: 'client0',
      host: 'client0',
      protocol: 'push0',
      dial: ['tcp://server:5555'],
      options: { 'SEND-DEADLINE': 5_000 },
      app: { kind: 'send' },
    },
  ]);

  it('timing.recv-deadline: the second blocked receive must time out too', () => {
    const o = blank('server', 'pull0');
    o.recvCalls = [
      { atUs: 0, endUs: 1_000, code: 'ErrRecvTimeout' },
      { atUs: 1_000, endUs: 2_000, code: 'ErrRecvTimeout' },
      { atUs: 2_000, endUs: 2_500, code: null },
    ];
    expect(status('timing.recv-deadline', pull, obsOf(o, blank('client0', 'push0')))).toBe('pass');
    o.recvCalls[1] = { atUs: 1_000, endUs: 9_000, code: null };
    expect(status('timing.recv-deadline', pull, obsOf(o, blank('client0', 'push0')))).toBe('fail');
  });

  it('timing.send-deadline: a later blocked send must fail at its own deadline', () => {
    const c = blank('client0', 'push0');
    const rec = (index: number, atUs: number, end: number, ok: boolean): SocketObs['sent'][number] => ({
      index,
      bytes: 1,
      atUs,
      acceptedAtUs: ok ? end : null,
      error: ok ? null : 'timed out',
      errorCode: ok ? null : 'ErrSendTimeout',
      failedAtUs: ok ? null : end,
      queuedBefore: 0,
    });
    c.sent = [rec(0, 0, 0, true), rec(1, 0, 5_000, false), rec(2, 5_000, 10_000, false)];
    expect(status('timing.send-deadline', pull, obsOf(blank('server', 'pull0'), c))).toBe('pass');
    c.sent[2] = rec(2, 5_000, 400_000, true); // blocked far past its deadline, then taken
    expect(status('timing.send-deadline', pull, obsOf(blank('server', 'pull0'), c))).toBe('fail');
  });
});

describe('timing.handshake-cut on hand-made observations', () => {
  const s = scenario(
    [
      {
        name: 'server',
        host: 'server',
        protocol: 'pair0',
        listen: ['tcp://server:5555'],
        options: { 'HANDSHAKE-TIMEOUT': 100_000 },
        app: { kind: 'sink' },
      },
    ],
    {
      hosts: ['server', 'raw0'],
      rawPeers: [{ name: 'raw0', host: 'raw0', dial: 'tcp://server:5555', script: [] }],
    },
  );
  const id = 'timing.handshake-cut';
  const accept = (endUs: number | null, attachedAtUs: number | null = null): SocketObs => {
    const o = blank('server', 'pair0');
    o.accepts = [{ atUs: 1_000, endUs, remoteAddress: 'tcp://raw0:49152', attachedAtUs }];
    return o;
  };

  it('passes a silent peer cut exactly at accept + HANDSHAKE-TIMEOUT, and a pipe attached before it', () => {
    expect(status(id, s, obsOf(accept(101_000)))).toBe('pass');
    expect(status(id, s, obsOf(accept(null, 5_000)))).toBe('pass');
  });

  it('fails a cut late, early, never, and a pipe attached after the deadline', () => {
    expect(status(id, s, obsOf(accept(101_001)))).toBe('fail');
    expect(status(id, s, obsOf(accept(100_999)))).toBe('fail');
    expect(status(id, s, obsOf(accept(null)))).toBe('fail');
    expect(status(id, s, obsOf(accept(null, 101_001)))).toBe('fail');
  });
});

describe('timing properties on the simulator', () => {
  for (const p of TIMING_PROPERTIES) {
    it(`netlab passes ${p.id}`, async () => {
      const out = await checkFamilyProperty(p, 'netlab', 20261207, 30);
      expect(out.counterexample?.failed ?? []).toEqual([]);
      expect(out.ok).toBe(true);
    });
  }

  for (const [impl, property, check] of [
    ['museum/no-handshake-timeout', 'timing/handshake', 'timing.handshake-cut'],
    ['museum/req-no-resend-on-loss', 'timing/resend', 'timing.resend-schedule'],
    ['museum/no-backoff', 'timing/redial', 'timing.redial-schedule'],
  ] as const) {
    it(`catches ${impl} by ${check}`, async () => {
      const out = await checkFamilyProperty(
        TIMING_PROPERTIES.find((p) => p.id === property)!,
        impl,
        1,
        60,
      );
      expect(out.ok).toBe(false);
      expect(out.counterexample!.failed.map((f) => f.id)).toContain(check);
    });
  }
});
