/**
 * `netlab cat`: an nngcat-compatible command on netlab's own SP stack over real sockets. Same flags,
 * output formats, messages and exit codes as nngcat 1.5.2 for the same outcomes (cat-args.ts parses,
 * cat-format.ts prints). Protocols land one issue at a time: a protocol netlab does not have yet is
 * "Protocol not supported.", as an nngcat built without it says.
 */
import { createNodeEnv, type NodeEnv } from '../../impl/runtime/node.js';
import type { Socket } from '../../impl/sp/core/socket.js';
import { SpError, type SpErrorCode } from '../../impl/sp/errors.js';
import type { OptionValues } from '../../impl/sp/options.js';
import { openBus0 } from '../../impl/sp/protocol/bus.js';
import { openPair0 } from '../../impl/sp/protocol/pair0.js';
import { openPub0, openSub0, subscribe } from '../../impl/sp/protocol/pubsub.js';
import { openPull0, openPush0 } from '../../impl/sp/protocol/pipeline.js';
import { openRep0 } from '../../impl/sp/protocol/rep0.js';
import { openReq0 } from '../../impl/sp/protocol/req0.js';
import { openRespondent0, openSurveyor0 } from '../../impl/sp/protocol/survey.js';
import { openPair1 } from '../../impl/sp/protocol/pair1.js';
import { openStar } from '../../impl/sp/protocol/star.js';
import { parseCatArgs, type CatArgs, type CatProtocol } from './cat-args.js';
import { formatMessage } from './cat-format.js';
import type { Command } from './common.js';

/** nng_strerror() texts for the errors netlab cat reports, so messages read as nngcat's. */
const NNG_STRERROR: Partial<Record<SpErrorCode, string>> = {
  ErrClosed: 'Object closed',
  ErrBadHeader: 'Protocol error',
  ErrBadVersion: 'Protocol error',
  ErrBadProto: 'Protocol error',
  ErrTooLong: 'Message too large',
  ErrSendTimeout: 'Timed out',
  ErrRecvTimeout: 'Timed out',
  ErrTimedOut: 'Timed out',
  ErrProtoState: 'Incorrect state',
  ErrProtoOp: 'Not supported',
  ErrCanceled: 'Operation canceled',
  ErrConnRefused: 'Connection refused',
  ErrConnReset: 'Connection reset',
  ErrAddrInUse: 'Address in use',
  ErrBadOption: 'Not supported',
  ErrBadValue: 'Invalid argument',
  ErrBadTran: 'Not supported',
  ErrBadAddr: 'Address invalid',
};

function strerror(e: unknown): string {
  if (e instanceof SpError) return NNG_STRERROR[e.code] ?? e.message;
  return e instanceof Error ? e.message : String(e);
}

/** nngcat's fatal(): the message on stderr, status 1. */
class Fatal extends Error {}

const OPENERS: Partial<Record<CatProtocol, (env: NodeEnv, options: Partial<OptionValues>) => Socket>> = {
  pair0: (env, options) => openPair0(env, { options }),
  req0: (env, options) => openReq0(env, { options }),
  rep0: (env, options) => openRep0(env, { options }),
  surveyor0: (env, options) => openSurveyor0(env, { options }),
  respondent0: (env, options) => openRespondent0(env, { options }),
  pub0: (env, options) => openPub0(env, { options }),
  sub0: (env, options) => openSub0(env, { options }),
  // nng's PUSH has no send buffer: a send waits until a puller takes it (nngcat blocks with no peer).
  push0: (env, options) => openPush0(env, { options: { 'WRITEQ-LEN': 0, ...options } }),
  pull0: (env, options) => openPull0(env, { options }),
  pair1: (env, options) => openPair1(env, { options }),
  bus0: (env, options) => openBus0(env, { options }),
  star: (env, options) => openStar(env, { options }),
};

function writeOut(bytes: Uint8Array): Promise<void> {
  if (bytes.length === 0) return Promise.resolve();
  return new Promise((resolve) => process.stdout.write(bytes, () => resolve()));
}

const sleepMs = (env: NodeEnv, ms: number): Promise<void> => env.sleep(ms * 1000);

/**
 * Errors that end a receive loop quietly, as NNG_ETIMEDOUT and NNG_ESTATE do in nngcat: a receive
 * timeout, the end of an exchange (ErrProtoState), and a survey that expired (ErrTimedOut).
 */
const END_OF_RECEIVE: ReadonlySet<SpErrorCode> = new Set<SpErrorCode>([
  'ErrRecvTimeout',
  'ErrProtoState',
  'ErrTimedOut',
]);

/**
 * nngcat's recvloop: print until count messages, a timeout or the end of an exchange (ErrProtoState:
 * a REQ whose reply was printed has no request outstanding any more, so its next recv ends the loop).
 */
async function recvLoop(socket: Socket, args: CatArgs): Promise<void> {
  const count = args.count ?? 0;
  for (let iters = 0; ; iters++) {
    if (count > 0 && iters >= count) return;
    let body: Uint8Array;
    try {
      body = await socket.recv();
    } catch (e) {
      if (e instanceof SpError && END_OF_RECEIVE.has(e.code)) return;
      throw new Fatal(`Receive error: ${strerror(e)}`);
    }
    await writeOut(formatMessage(args.format, body));
  }
}

/** nngcat waits this long after its last reply so the reply can drain before exit(0). */
const RESPLOOP_DRAIN_MS = 200;

/**
 * nngcat's resploop (rep, respondent with data): receive a request, print it, answer with the data,
 * until count replies. Unlike recvloop every receive error is fatal, a timeout included: nngcat
 * prints "Receive error: Timed out" and exits 1 when --recv-timeout runs out before a request.
 */
async function respLoop(env: NodeEnv, socket: Socket, args: CatArgs): Promise<void> {
  const data = args.data!;
  const count = args.count ?? 0;
  for (let replies = 0; ;) {
    let body: Uint8Array;
    try {
      body = await socket.recv();
    } catch (e) {
      throw new Fatal(`Receive error: ${strerror(e)}`);
    }
    await writeOut(formatMessage(args.format, body));
    await send(socket, data);
    replies++;
    if (count > 0 && replies >= count) break;
  }
  await sleepMs(env, RESPLOOP_DRAIN_MS);
}

async function send(socket: Socket, data: Uint8Array): Promise<void> {
  try {
    await socket.send(data);
  } catch (e) {
    throw new Fatal(`Send error: ${strerror(e)}`);
  }
}

/** nngcat's sendrecv (pair, bus, req, surveyor with data): send, then receive, every --interval. */
async function sendRecv(env: NodeEnv, socket: Socket, args: CatArgs): Promise<void> {
  const data = args.data!;
  const count = args.count ?? 0;
  const intervalMs = args.intervalSec === null ? -1 : args.intervalSec * 1000;
  const recvTimeoutMs = args.recvTimeoutSec === null ? -1 : args.recvTimeoutSec * 1000;
  if ((args.delaySec ?? 0) > 0) await sleepMs(env, args.delaySec! * 1000);
  // nng_clock(): whole milliseconds, so a delta is a difference of truncated readings, as nngcat's.
  const clockMs = (): number => Math.floor(env.nowUs() / 1000);
  for (let iters = 0; ;) {
    const startMs = clockMs();
    await send(socket, data);
    if (intervalMs < 0 && count === 0) {
      await recvLoop(socket, args);
      return;
    }
    for (;;) {
      const deltaMs = clockMs() - startMs;
      let expireMs = intervalMs - deltaMs;
      if (recvTimeoutMs >= 0 && expireMs > recvTimeoutMs) expireMs = recvTimeoutMs;
      // nngcat 1.5.2 sets this as the receive timeout. With --count but no --interval it is
      // -1 - delta: -1 (still within the first millisecond) is nng's "infinite" and the receive
      // waits, anything lower nng refuses: "Cannot set recv timeout: Invalid argument". So a REQ
      // whose reply came back within the millisecond prints it and fails on the next round, as
      // nngcat does; a send that blocked for a peer fails at once. Same outcomes here.
      if (expireMs < -1) throw new Fatal('Cannot set recv timeout: Invalid argument');
      socket.setOption('RECV-DEADLINE', expireMs === -1 ? null : expireMs === 0 ? 1 : expireMs * 1000);
      let body: Uint8Array;
      try {
        body = await socket.recv();
      } catch (e) {
        if (e instanceof SpError && END_OF_RECEIVE.has(e.code)) break;
        throw new Fatal(`Cannot receive: ${strerror(e)}`);
      }
      await writeOut(formatMessage(args.format, body));
    }
    const deltaMs = clockMs() - startMs;
    iters++;
    if (count > 0 && iters >= count) return;
    if (deltaMs >= 0 && deltaMs < intervalMs) await sleepMs(env, intervalMs - deltaMs);
  }
}

/**
 * nngcat's sendloop (pub, push): send the data every --interval until --count sends (forever without
 * a count), then wait 200 ms so the queues can drain before exit(0). --delay first, as sendrecv.
 */
async function sendLoop(env: NodeEnv, socket: Socket, args: CatArgs): Promise<void> {
  const data = args.data!;
  const intervalMs = args.intervalSec === null ? -1 : args.intervalSec * 1000;
  // Seen with nngcat 1.5.2: no --interval and no --count sends once; --count alone sends back to back.
  const count = (args.count ?? 0) === 0 && intervalMs < 0 ? 1 : (args.count ?? 0);
  if ((args.delaySec ?? 0) > 0) await sleepMs(env, args.delaySec! * 1000);
  const clockMs = (): number => Math.floor(env.nowUs() / 1000);
  for (let iters = 0; ;) {
    const startMs = clockMs();
    await send(socket, data);
    const deltaMs = clockMs() - startMs;
    iters++;
    if (count > 0 && iters >= count) break;
    if (deltaMs >= 0 && deltaMs < intervalMs) await sleepMs(env, intervalMs - deltaMs);
  }
  await sleepMs(env, RESPLOOP_DRAIN_MS);
}

/** nngcat main()'s last switch: which loop each protocol runs. */
async function mainLoop(env: NodeEnv, socket: Socket, args: CatArgs): Promise<void> {
  switch (args.protocol) {
    case 'sub0':
    case 'pull0':
      return recvLoop(socket, args);
    case 'rep0':
    case 'respondent0':
      return args.data === null ? recvLoop(socket, args) : respLoop(env, socket, args);
    case 'req0':
    case 'surveyor0':
      // cat-args refuses these without data, as nngcat does ("Protocol requires either --file or --data.").
      return sendRecv(env, socket, args);
    case 'pair0':
    case 'pair1':
    case 'bus0':
    case 'star':
      return args.data === null ? recvLoop(socket, args) : sendRecv(env, socket, args);
    case 'pub0':
    case 'push0':
      return sendLoop(env, socket, args);
  }
}

async function runCat(args: CatArgs): Promise<void> {
  const open = OPENERS[args.protocol];
  if (open === undefined) throw new Fatal('Protocol not supported.');
  const env = createNodeEnv({ hostName: 'netlab-cat' });
  const options: Partial<OptionValues> = {
    // nng's default is no receive limit; -Z sets one (0 meaning 0x7fffffff, as nngcat does).
    'MAX-RCV-SIZE': args.recvMaxBytes ?? 0,
  };
  if ((args.sendTimeoutSec ?? 0) > 0) options['SEND-DEADLINE'] = args.sendTimeoutSec! * 1_000_000;
  if ((args.recvTimeoutSec ?? 0) > 0) options['RECV-DEADLINE'] = args.recvTimeoutSec! * 1_000_000;
  if (args.async) options['DIAL-ASYNCH'] = true;
  const socket = open(env, options);
  // nngcat subscribes to each --subscribe topic (cat-args gives sub0 one empty topic without any).
  for (const topic of args.subscriptions) subscribe(socket, topic);
  try {
    for (const a of args.addresses) {
      // Two steps, as nngcat: creating the endpoint checks the URL, starting it does the I/O.
      let endpoint: { dial(): Promise<void> } | { listen(): Promise<void> };
      try {
        endpoint = a.mode === 'dial' ? socket.newDialer(a.url) : socket.newListener(a.url);
      } catch (e) {
        throw new Fatal(
          `Unable to create ${a.mode === 'dial' ? 'dialer' : 'listener'} for ${a.url}: ${strerror(e)}`,
        );
      }
      try {
        await ('dial' in endpoint ? endpoint.dial() : endpoint.listen());
      } catch (e) {
        throw new Fatal(`Unable to ${a.mode} on ${a.url}: ${strerror(e)}`);
      }
      if (args.verbose)
        process.stdout.write(a.mode === 'dial' ? `Connected to: ${a.url}\n` : `Listening at: ${a.url}\n`);
    }
    await mainLoop(env, socket, args);
  } finally {
    await socket.close().catch(() => undefined);
    await env.close().catch(() => undefined);
  }
}

export const catCommand: Command = {
  name: 'cat',
  summary: "nngcat-compatible SP client/server on netlab's stack (flags, formats and exit codes as nngcat)",
  usage:
    "usage: netlab cat --PROTOCOL (--dial URL | --listen URL)... [options]; netlab cat --help shows nngcat's options",
  async run(argv) {
    const parsed = parseCatArgs(argv);
    switch (parsed.kind) {
      case 'help':
      case 'version':
        process.stdout.write(parsed.stdout);
        return parsed.exitCode;
      case 'error':
        process.stderr.write(`${parsed.message}\n`);
        return parsed.exitCode;
      case 'run':
        break;
    }
    try {
      await runCat(parsed.args);
      return 0;
    } catch (e) {
      process.stderr.write(
        `${e instanceof Fatal ? e.message : `netlab cat: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`}\n`,
      );
      return e instanceof Fatal ? 1 : 2;
    }
  },
};
