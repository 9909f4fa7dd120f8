/**
 * The interop cell table: for every SP protocol netlab speaks with a third-party peer and each
 * connection role of netlab, the conformance exchange between netlab (the library on the real
 * runtime, in this process) and nngcat or nanocat (a child process). `netlab interop` and the vitest
 * interop tests both run these exchanges (scenarios/sp/interop/matrix.ts runs one), so the two cannot drift.
 *
 * An exchange only drives the sockets and checks outcomes through its ExchangeIO; starting, bounding
 * and reaping the peers, the addresses (and any fault proxy between them) and the verdict are the
 * runner's. The peer command lines and their quirks are those of reference sp.md §8.
 */
import type { NodeEnv } from '../../../impl/runtime/node.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { SpError } from '../../../impl/sp/errors.js';
import type { OptionValues } from '../../../impl/sp/options.js';
import { openBus0 } from '../../../impl/sp/protocol/bus.js';
import { openPair0 } from '../../../impl/sp/protocol/pair0.js';
import { openPair1 } from '../../../impl/sp/protocol/pair1.js';
import { openPull0, openPush0 } from '../../../impl/sp/protocol/pipeline.js';
import { openPub0, openSub0, sub0Stats } from '../../../impl/sp/protocol/pubsub.js';
import { openRep0 } from '../../../impl/sp/protocol/rep0.js';
import { openReq0 } from '../../../impl/sp/protocol/req0.js';
import { openRespondent0, openSurveyor0, surveyor0Stats } from '../../../impl/sp/protocol/survey.js';
import type { OutputMatcher, PeerOutput, PeerResult, RunningPeer } from '../../interop/harness.js';
import { faultProfile, type Transport } from '../../interop/faults.js';
import { PEER_COMMANDS, PROTOCOL_ORDER, ROLES, type PeerId, type Role, type SpProtocol } from './axes.js';

export {
  PEER_IDS,
  PROTOCOL_GROUPS,
  PROTOCOL_ORDER,
  ROLES,
  type PeerId,
  type Role,
  type SpProtocol,
} from './axes.js';

/** How to drive one peer program: its flags where nngcat and nanocat spell them differently. */
export interface PeerDialect {
  id: PeerId;
  command: (typeof PEER_COMMANDS)[PeerId];
  /** Arguments that make the program print its version, if it has them (else: its Debian package's). */
  versionArgs?: readonly string[];
  /** The peer's flag for each socket type it has; a type without a flag has no cells. */
  protocolFlags: Partial<Record<SpProtocol, string>>;
  dial: string;
  listen: string;
  /** nngcat's receivers, REP and RESPONDENT stop after --count messages; nanocat has no --count and loops. */
  counts: boolean;
  /** Flags that make a dial retry in the background: nngcat dials once, synchronously, unless --async. */
  dialAsync: string[];
}

export const PEER_DIALECTS: Record<PeerId, PeerDialect> = {
  nng: {
    id: 'nng',
    command: PEER_COMMANDS.nng,
    versionArgs: ['--version'],
    protocolFlags: {
      pair0: '--pair0',
      pair1: '--pair1',
      req0: '--req0',
      rep0: '--rep0',
      pub0: '--pub0',
      sub0: '--sub0',
      push0: '--push0',
      pull0: '--pull0',
      // Missing from nngcat 1.5.2's --help, but it works.
      bus0: '--bus0',
      surveyor0: '--surveyor0',
      respondent0: '--respondent0',
    },
    dial: '--dial',
    listen: '--listen',
    counts: true,
    dialAsync: ['--async'],
  },
  nanomsg: {
    id: 'nanomsg',
    command: PEER_COMMANDS.nanomsg,
    // nanomsg has PAIR v0 only: no pair1 cells.
    protocolFlags: {
      pair0: '--pair',
      req0: '--req',
      rep0: '--rep',
      pub0: '--pub',
      sub0: '--sub',
      push0: '--push',
      pull0: '--pull',
      bus0: '--bus',
      surveyor0: '--surveyor',
      respondent0: '--respondent',
    },
    dial: '--connect',
    listen: '--bind',
    counts: false,
    // nanocat always connects in the background.
    dialAsync: [],
  },
};

/** A check of the exchange did not hold: the cell fails with this message. */
export class CheckFailure extends Error {
  override readonly name = 'CheckFailure';
}

/** What an exchange may do; the runner implements it (scenarios/sp/interop/matrix.ts). */
export interface ExchangeIO {
  readonly env: NodeEnv;
  readonly peer: PeerDialect;
  readonly transport: Transport;
  /** The cell's fault profile ("none": the peers talk directly); see faults.ts. */
  readonly faults: string;
  /** Where netlab's socket listens (role listener) or dials (role dialer). */
  readonly netlabUrl: string;
  /** True when the peer dials (netlab is the listener). */
  readonly peerDials: boolean;
  /** Registers a socket to be closed when the cell ends, and returns it. */
  own<S extends Socket>(socket: S): S;
  /**
   * Connects netlab's socket and starts one peer per argument list in the opposite role, in the
   * order the role needs: netlab listens before the peers dial; the peers listen before netlab dials
   * (asynchronously, so it retries until they are bound). Each list follows `FLAG MODE URL`.
   */
  connect(socket: Socket, peerProtocol: SpProtocol, peers: string[][]): Promise<RunningPeer[]>;
  /** Runs one step, named for the detail of a timeout or a failure; an SpError fails the cell. */
  step<T>(what: string, work: Promise<T>): Promise<T>;
  /** Fails the cell with `what` unless `cond`. */
  check(cond: boolean, what: string): void;
  /** Resolves once the peer printed `match`; fails the cell after timeoutMs (default 5 s). */
  printed(peer: RunningPeer, match: OutputMatcher, what: string, timeoutMs?: number): Promise<PeerOutput>;
  /** Waits for the peer to exit on its own; anything but status 0 ends the cell as an error. */
  exits(peer: RunningPeer): Promise<PeerResult>;
  /** Stops a peer that would go on (nanocat without --count); the cell's own stop is no crash. */
  stop(peer: RunningPeer): Promise<PeerResult>;
  /** Resolves once `socket` has `n` pipes; fails the cell after timeoutMs (default 5 s). */
  untilPipes(socket: Socket, n: number, timeoutMs?: number): Promise<void>;
  /** Adds a line to the cell's detail: a documented difference of the peer that the cell accepts. */
  note(text: string): void;
}

/** One row of the table: netlab's socket type and role against the peer's complementary socket. */
export interface Exchange {
  /** netlab's socket type. */
  protocol: SpProtocol;
  /** netlab's role in the connection. */
  role: Role;
  /** The peer's socket type. */
  peerProtocol: SpProtocol;
  /** The invariant the cell checks (the report case's `invariant`). */
  invariant: string;
  /** What must hold (the report case's `requirement`). */
  requirement: string;
  /** Runs the exchange; resolves with a short account of what was seen, throws when a check fails. */
  run(io: ExchangeIO): Promise<string>;
}

const SECOND_US = 1_000_000;
const MS_US = 1000;
/** Options of every netlab socket here: dials retry every 20 ms in the background (the peer may still be binding). */
const DIAL_EARLY = { 'DIAL-ASYNCH': true, 'RECONNECT-TIME': 20 * MS_US } as const;

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);
const out = (r: PeerResult): string => str(r.stdout);

/** The quoted lines a peer printed, unquoted. */
const lines = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^"|"$/g, ''));

/** The error code a promise settles with: "ok" when it resolves, the SpError code, or the message. */
async function outcomeCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof SpError ? e.code : `non-SpError: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function expectText(io: ExchangeIO, got: Uint8Array, want: string, what: string): void {
  io.check(str(got) === want, `${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(str(got))}`);
}

/** Peers that stop by themselves wait for their exit; a looping nanocat is stopped. */
async function finish(io: ExchangeIO, peer: RunningPeer): Promise<PeerResult> {
  if (io.peer.counts) return io.exits(peer);
  io.note(`${io.peer.command} has no --count and loops: stopped after the exchange`);
  return io.stop(peer);
}

type Opener = (env: NodeEnv, options: Partial<OptionValues>) => Socket;

/** PAIR0 and PAIR1: one message each way. */
function pairExchange(
  protocol: 'pair0' | 'pair1',
  open: Opener,
  role: Role,
  /** The peer's --recv-timeout in seconds, dialing and listening (it prints, then waits this long). */
  recvTimeoutSec: { dialing: string; listening: string },
): Exchange {
  return {
    protocol,
    role,
    peerProtocol: protocol,
    invariant: `interop.${protocol}.both-ways`,
    requirement: `a message sent on either side of a ${protocol.toUpperCase()} pipe arrives intact on the other`,
    async run(io) {
      const s = io.own(open(io.env, { ...DIAL_EARLY, 'RECV-DEADLINE': 5 * SECOND_US }));
      const timeout = io.peerDials ? recvTimeoutSec.dialing : recvTimeoutSec.listening;
      const [p] = await io.connect(s, protocol, [
        ['--data', 'from-peer', '--recv-timeout', timeout, '--quoted'],
      ]);
      if (io.peerDials) {
        expectText(io, await io.step('receiving from the peer', s.recv()), 'from-peer', 'netlab received');
        await io.step('sending to the peer', s.send(text('from-netlab')));
      } else {
        // The peer listens: send first, as the peer's own send may wait for netlab's pipe.
        await io.step('sending to the peer', s.send(text('from-netlab')));
        expectText(io, await io.step('receiving from the peer', s.recv()), 'from-peer', 'netlab received');
      }
      await io.printed(p!, /"from-netlab"/, '"from-netlab"');
      await io.exits(p!);
      return `netlab got "from-peer"; ${io.peer.command} printed "from-netlab" and exited 0`;
    },
  };
}

function reqExchange(role: Role): Exchange {
  return {
    protocol: 'req0',
    role,
    peerProtocol: 'rep0',
    invariant: 'interop.req0.one-reply',
    requirement: "a REQ gets the REP's reply to its request; the REP sees the request once",
    async run(io) {
      // Behind a reset the reply may be lost: the REQ resends after a second, and the peer must stay
      // to answer the resend (no --count), as a REP server would.
      const destroys = faultProfile(io.faults)?.destroysData === true;
      const counted = io.peer.counts && !destroys;
      const req = io.own(
        openReq0(io.env, {
          options: {
            ...DIAL_EARLY,
            'RECV-DEADLINE': 5 * SECOND_US,
            ...(destroys ? { 'RETRY-TIME': SECOND_US } : {}),
          },
        }),
      );
      const [p] = await io.connect(req, 'rep0', [
        ['--data', 'pong', '--quoted', ...(counted ? ['--count', '1'] : [])],
      ]);
      // With netlab listening there is no pipe yet: the request waits for the peer to connect.
      await io.step('sending the request', req.send(text('ping')));
      expectText(io, await io.step('receiving the reply', req.recv()), 'pong', 'netlab REQ received');
      // The one request was answered: nothing is outstanding, which is how nngcat's loop ends too.
      const after = await outcomeCode(req.recv());
      io.check(after === 'ErrProtoState', `a recv after the reply: expected ErrProtoState, got ${after}`);
      await io.printed(p!, /"ping"/, '"ping"');
      if (!counted) {
        if (io.peer.counts)
          io.note(`${io.peer.command} runs without --count here, to answer a resent request`);
        const r = await io.stop(p!);
        return `netlab got "pong", then ErrProtoState; ${io.peer.command} printed ${JSON.stringify(out(r))}`;
      }
      const r = await finish(io, p!);
      io.check(out(r) === '"ping"\n', `nngcat printed ${JSON.stringify(out(r))}, not the request once`);
      return `netlab got "pong", then ErrProtoState; ${io.peer.command} printed "ping" once`;
    },
  };
}

function repExchange(role: Role): Exchange {
  return {
    protocol: 'rep0',
    role,
    peerProtocol: 'req0',
    invariant: 'interop.rep0.reply-reaches-requester',
    requirement: 'a REP receives the request and its reply reaches the REQ that sent it',
    async run(io) {
      const rep = io.own(openRep0(io.env, { options: { ...DIAL_EARLY, 'RECV-DEADLINE': 5 * SECOND_US } }));
      const [p] = await io.connect(rep, 'req0', [['--data', 'ping', '--quoted']]);
      expectText(io, await io.step('receiving the request', rep.recv()), 'ping', 'netlab REP received');
      await io.step('sending the reply', rep.send(text('pong')));
      const r = await io.exits(p!);
      io.check(out(r) === '"pong"\n', `${io.peer.command} printed ${JSON.stringify(out(r))}, not "pong"`);
      return `netlab got "ping"; ${io.peer.command} printed "pong" and exited 0`;
    },
  };
}

function pubExchange(role: Role): Exchange {
  return {
    protocol: 'pub0',
    role,
    peerProtocol: 'sub0',
    invariant: 'interop.pub0.prefix-filter',
    requirement: "a subscriber gets the publisher's messages whose topic it subscribed to, and no others",
    async run(io) {
      const pub = io.own(openPub0(io.env, { options: DIAL_EARLY }));
      const [p] = await io.connect(pub, 'sub0', [['--subscribe', 'a', '--recv-timeout', '3', '--quoted']]);
      // The subscriber attaches when it attaches: publish rounds until it has printed a full one.
      let seen = false;
      const waiting = io.printed(p!, /"avocado"/, '"avocado"', 6_000).then(() => (seen = true));
      waiting.catch(() => undefined); // awaited below; a rejection meanwhile is not unhandled
      for (let round = 0; round < 50 && !seen; round++) {
        for (const w of ['apple', 'banana', 'avocado']) await io.step('publishing', pub.send(text(w)));
        await io.env.sleep(100 * MS_US);
      }
      await waiting;
      const got = lines(out(await io.stop(p!)));
      io.check(got.length >= 2, `${io.peer.command} printed ${got.length} messages, expected at least 2`);
      const stray = got.filter((l) => l !== 'apple' && l !== 'avocado');
      io.check(stray.length === 0, `${io.peer.command} printed unsubscribed topics: ${stray.join(', ')}`);
      return `${io.peer.command} subscribed to "a" printed ${got.length} a-topics and no "banana"`;
    },
  };
}

function subExchange(role: Role): Exchange {
  return {
    protocol: 'sub0',
    role,
    peerProtocol: 'pub0',
    invariant: 'interop.sub0.prefix-filter',
    requirement: 'a SUB delivers the messages whose topic it subscribed to and filters out the others',
    async run(io) {
      const subOptions = { ...DIAL_EARLY, 'RECV-DEADLINE': 5 * SECOND_US };
      const sub = io.own(openSub0(io.env, { options: { ...subOptions, SUBSCRIBE: text('a') } }));
      if (io.peerDials) {
        // Two publishers dial, each sends once after 1 s (the pipe is up by then).
        const peers = await io.connect(
          sub,
          'pub0',
          ['banana', 'apple'].map((w) => ['--data', w, '--delay', '1']),
        );
        expectText(
          io,
          await io.step('receiving a subscribed topic', sub.recv()),
          'apple',
          'netlab SUB received',
        );
        for (const p of peers) await io.exits(p);
        await io.env.sleep(200 * MS_US);
        sub.setOption('RECV-DEADLINE', 300 * MS_US);
        const next = await outcomeCode(sub.recv());
        io.check(next === 'ErrRecvTimeout', `after "apple": expected nothing (ErrRecvTimeout), got ${next}`);
        const filtered = sub0Stats(sub)?.filtered ?? 0;
        io.check(filtered === 1, `netlab SUB filtered ${filtered} messages, expected 1 ("banana")`);
        return 'netlab SUB subscribed to "a" got "apple" and filtered "banana"';
      }
      // One publisher listens and sends "apple" every second; a second netlab SUB, subscribed to
      // "b" only, dials it too and must filter every copy out.
      const other = io.own(openSub0(io.env, { options: { ...subOptions, SUBSCRIBE: text('b') } }));
      const [p] = await io.connect(sub, 'pub0', [
        ['--data', 'apple', '--interval', '1', ...(io.peer.counts ? ['--count', '6'] : [])],
      ]);
      await io.step('dialing a second SUB', other.dial(io.netlabUrl));
      expectText(
        io,
        await io.step('receiving a subscribed topic', sub.recv()),
        'apple',
        'netlab SUB received',
      );
      await io.untilPipes(other, 1);
      const endUs = io.env.nowUs() + 3 * SECOND_US;
      while ((sub0Stats(other)?.filtered ?? 0) === 0 && io.env.nowUs() < endUs)
        await io.env.sleep(20 * MS_US);
      const filtered = sub0Stats(other)?.filtered ?? 0;
      io.check(filtered >= 1, 'the SUB subscribed to "b" filtered no "apple" within 3 s');
      other.setOption('RECV-DEADLINE', 100 * MS_US);
      const leaked = await outcomeCode(other.recv());
      io.check(leaked === 'ErrRecvTimeout', `the SUB subscribed to "b": expected nothing, got ${leaked}`);
      await io.stop(p!);
      return `netlab SUB subscribed to "a" got "apple"; one subscribed to "b" filtered ${filtered}`;
    },
  };
}

function pushExchange(role: Role): Exchange {
  return {
    protocol: 'push0',
    role,
    peerProtocol: 'pull0',
    invariant: 'interop.push0.in-order',
    requirement: 'messages pushed to a single puller arrive intact, once each, in order',
    async run(io) {
      const push = io.own(openPush0(io.env, { options: { ...DIAL_EARLY, 'SEND-DEADLINE': 5 * SECOND_US } }));
      const [p] = await io.connect(push, 'pull0', [
        ['--quoted', ...(io.peer.counts ? ['--count', '3'] : [])],
      ]);
      await io.untilPipes(push, 1);
      for (const m of ['j1', 'j2', 'j3']) await io.step(`pushing ${m}`, push.send(text(m)));
      const printed = await io.printed(p!, /"j3"/, '"j3"');
      io.check(
        printed.stdout === '"j1"\n"j2"\n"j3"\n',
        `${io.peer.command} printed ${JSON.stringify(printed.stdout)}, not j1 j2 j3 once each in order`,
      );
      await finish(io, p!);
      return `${io.peer.command} printed j1, j2, j3 in order`;
    },
  };
}

function pullExchange(role: Role): Exchange {
  return {
    protocol: 'pull0',
    role,
    peerProtocol: 'push0',
    invariant: 'interop.pull0.delivered',
    requirement: 'a message pushed by the peer is delivered intact to the puller',
    async run(io) {
      const pull = io.own(openPull0(io.env, { options: { ...DIAL_EARLY, 'RECV-DEADLINE': 5 * SECOND_US } }));
      const [p] = await io.connect(pull, 'push0', [['--data', 'job']]);
      expectText(io, await io.step('receiving the job', pull.recv()), 'job', 'netlab PULL received');
      await io.exits(p!);
      return `netlab got "job"; ${io.peer.command} exited 0`;
    },
  };
}

function busExchange(role: Role): Exchange {
  return {
    protocol: 'bus0',
    role,
    peerProtocol: 'bus0',
    invariant: 'interop.bus0.both-ways',
    requirement: 'a BUS message reaches the peer on the other end of the pipe, both ways',
    async run(io) {
      const bus = io.own(openBus0(io.env, { options: { ...DIAL_EARLY, 'RECV-DEADLINE': 5 * SECOND_US } }));
      // -d 1: a BUS send reaches only the pipes up at that moment; the peer waits for netlab's.
      const timeout = io.peerDials ? '1' : '2';
      const [p] = await io.connect(bus, 'bus0', [
        ['--data', 'from-peer', '-d', '1', '--recv-timeout', timeout, '--quoted'],
      ]);
      if (io.peerDials) {
        expectText(
          io,
          await io.step('receiving from the peer', bus.recv()),
          'from-peer',
          'netlab BUS received',
        );
        await io.step('sending to the peer', bus.send(text('from-netlab')));
      } else {
        await io.untilPipes(bus, 1);
        await io.step('sending to the peer', bus.send(text('from-netlab')));
        expectText(
          io,
          await io.step('receiving from the peer', bus.recv()),
          'from-peer',
          'netlab BUS received',
        );
      }
      await io.printed(p!, /"from-netlab"/, '"from-netlab"');
      await io.exits(p!);
      return `netlab got "from-peer"; ${io.peer.command} printed "from-netlab" and exited 0`;
    },
  };
}

/** Receives until the survey ends: the responses (sorted) and the error code that ended it. */
async function collect(s: Socket): Promise<{ got: string[]; end: string }> {
  const got: string[] = [];
  for (;;) {
    try {
      got.push(str(await s.recv()));
    } catch (e) {
      return { got: got.sort(), end: e instanceof SpError ? e.code : String(e) };
    }
  }
}

function surveyorExchange(role: Role): Exchange {
  return {
    protocol: 'surveyor0',
    role,
    peerProtocol: 'respondent0',
    invariant: 'interop.surveyor0.all-responses',
    requirement:
      'a survey reaches every respondent; each response arrives once, then the survey ends (ErrTimedOut)',
    async run(io) {
      const surv = io.own(openSurveyor0(io.env, { options: { ...DIAL_EARLY, 'SURVEY-TIME': 500 * MS_US } }));
      const count = io.peer.counts ? ['--count', '1'] : [];
      const answers = io.peerDials ? ['yes1', 'yes2'] : ['here'];
      const peers = await io.connect(
        surv,
        'respondent0',
        answers.map((a) => [...(io.peerDials ? io.peer.dialAsync : []), '--data', a, '--quoted', ...count]),
      );
      await io.untilPipes(surv, peers.length);
      await io.step('surveying', surv.send(text('q?')));
      const { got, end } = await collect(surv);
      io.check(
        JSON.stringify(got) === JSON.stringify(answers) && end === 'ErrTimedOut',
        `responses ${JSON.stringify(got)} ending with ${end}; expected ${JSON.stringify(answers)} then ErrTimedOut`,
      );
      const stale = surveyor0Stats(surv)?.staleResponses ?? 0;
      io.check(stale === 0, `${stale} responses were stale`);
      // After the survey: nothing to receive (nng's ESTATE).
      const after = await outcomeCode(surv.recv());
      io.check(after === 'ErrProtoState', `a recv after the survey: expected ErrProtoState, got ${after}`);
      for (const p of peers) {
        await io.printed(p, /"q\?"/, '"q?"');
        await finish(io, p);
      }
      return `${answers.length} ${io.peer.command} respondents answered once each, then ErrTimedOut`;
    },
  };
}

function respondentExchange(role: Role): Exchange {
  return {
    protocol: 'respondent0',
    role,
    peerProtocol: 'surveyor0',
    invariant: 'interop.respondent0.answer-reaches-surveyor',
    requirement: 'a respondent receives the survey with its id and its answer reaches the surveyor',
    async run(io) {
      const resp = io.own(
        openRespondent0(io.env, { options: { ...DIAL_EARLY, 'RECV-DEADLINE': 5 * SECOND_US } }),
      );
      // -d 1: the surveyor waits for netlab's pipe before it surveys. nngcat dials synchronously, so
      // when it dials the pipe is up already; nanocat connects in the background and needs the delay.
      const delay = io.peerDials && io.peer.counts ? [] : ['-d', '1'];
      if (io.peerDials && !io.peer.counts)
        io.note('nanocat connects in the background: its surveyor waits 1 s (-d 1) for the pipe');
      const [p] = await io.connect(resp, 'surveyor0', [['--data', 'q?', ...delay, '--quoted']]);
      const q = await io.step('receiving the survey', resp.recvMsg());
      expectText(io, q.body, 'q?', 'netlab RESPONDENT received');
      // The backtrace is the survey id alone, top bit set.
      io.check(
        q.header.length === 4 && (q.header[0]! & 0x80) === 0x80,
        `survey header ${Array.from(q.header).join(',')}: expected one id word with the top bit set`,
      );
      await io.step('answering', resp.send(text('yes')));
      const r = await io.exits(p!);
      io.check(out(r) === '"yes"\n', `${io.peer.command} printed ${JSON.stringify(out(r))}, not "yes"`);
      return `netlab got "q?" with a survey id; ${io.peer.command} printed "yes" and exited 0`;
    },
  };
}

const pair0: Opener = (env, options) => openPair0(env, { options });
const pair1: Opener = (env, options) => openPair1(env, { options });

/** Every exchange, in the order the matrix lists them (protocol, then netlab listening before dialing). */
export const EXCHANGES: readonly Exchange[] = ROLES.flatMap((role) => [
  pairExchange('pair0', pair0, role, { dialing: '2', listening: '3' }),
  pairExchange('pair1', pair1, role, { dialing: '1', listening: '2' }),
  reqExchange(role),
  repExchange(role),
  pubExchange(role),
  subExchange(role),
  pushExchange(role),
  pullExchange(role),
  busExchange(role),
  surveyorExchange(role),
  respondentExchange(role),
]).sort((a, b) => PROTOCOL_ORDER.indexOf(a.protocol) - PROTOCOL_ORDER.indexOf(b.protocol));

export function exchangeOf(protocol: SpProtocol, role: Role): Exchange {
  const e = EXCHANGES.find((x) => x.protocol === protocol && x.role === role);
  if (e === undefined) throw new Error(`no interop exchange for ${protocol} as ${role}`);
  return e;
}
