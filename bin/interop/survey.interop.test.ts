/**
 * SURVEYOR/RESPONDENT interop with third-party SP peers over real loopback TCP and ipc: netlab (the
 * library on the real runtime) against nngcat (nng 1.5.2, --surveyor0/--respondent0) and nanocat
 * (nanomsg 1.1.5, --surveyor/--respondent) in both roles and both connection directions; and
 * `netlab cat --surveyor0/--respondent0` against nngcat, compared with nngcat in the same role.
 * Missing peers fail the test under NETLAB_REQUIRE_PEERS=1 (CI) and skip it otherwise.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { NodeEnv } from '../../impl/runtime/node.js';
import type { Socket } from '../../impl/sp/core/socket.js';
import { SpError } from '../../impl/sp/errors.js';
import { openRespondent0, openSurveyor0, surveyor0Stats } from '../../impl/sp/protocol/survey.js';
import { interopAddress, withRealEnv } from './support.js';
import {
  freeTcpPort,
  gatePeers,
  runPeer,
  startPeer,
  stopAllPeers,
  type PeerResult,
} from '../peers/harness.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

const NETLAB = new URL('../netlab', import.meta.url).pathname;
const SECOND_US = 1_000_000;
const MS_US = 1000;

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

interface PeerCmd {
  command: 'nngcat' | 'nanocat';
  surveyor: string;
  respondent: string;
  dial: string;
  listen: string;
  /** nngcat stops after --count replies; nanocat has no --count and answers until killed. */
  countOne: string[];
  /** nngcat dials synchronously (refused = exit 1) unless --async; nanocat always dials in the background. */
  dialAsync: string[];
}
const PEERS: PeerCmd[] = [
  {
    command: 'nngcat',
    surveyor: '--surveyor0',
    respondent: '--respondent0',
    dial: '--dial',
    listen: '--listen',
    countOne: ['--count', '1'],
    dialAsync: ['--async'],
  },
  {
    command: 'nanocat',
    surveyor: '--surveyor',
    respondent: '--respondent',
    dial: '--connect',
    listen: '--bind',
    countOne: [],
    dialAsync: [],
  },
];

const address = (transport: 'tcp' | 'ipc', tag: string): Promise<string> =>
  interopAddress(transport, `survey-${tag}`);
const withEnv = <T>(fn: (env: NodeEnv, sockets: Socket[]) => Promise<T>): Promise<T> =>
  withRealEnv('interop-survey', fn);

/** Dial options for a netlab socket whose peer may still be binding: retry quickly in the background. */
const DIAL_EARLY = { 'DIAL-ASYNCH': true, 'RECONNECT-TIME': 20 * MS_US } as const;

/** Receives until the survey ends; returns the responses (sorted) and the error code that ended it. */
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

/** Resolves once `n` pipes are attached to `socket` (or fails after timeoutMs). */
async function untilPipes(env: NodeEnv, socket: Socket, n: number, timeoutMs = 5_000): Promise<void> {
  for (let waitedMs = 0; socket.pipes.size < n; waitedMs += 10) {
    if (waitedMs > timeoutMs)
      throw new Error(`only ${socket.pipes.size} of ${n} pipes after ${timeoutMs} ms`);
    await env.sleep(10 * MS_US);
  }
}

/**
 * Resolves once something accepts connections at url. A probe connection is opened and closed at
 * once: nngcat and netlab count it as a failed handshake and carry on. Needed because nngcat prints
 * "Listening at" only into its stdio buffer, so its output cannot say when it is ready.
 */
async function waitUntilListening(url: string, timeoutMs: number): Promise<void> {
  const target = url.startsWith('ipc://')
    ? { path: url.slice('ipc://'.length) }
    : (() => {
        const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(url);
        if (m === null) throw new Error(`cannot probe ${url}`);
        return { host: m[1]!, port: Number(m[2]) };
      })();
  const deadlineMs = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const probe = net.connect(target);
      probe.once('connect', () => {
        probe.destroy();
        res(true);
      });
      probe.once('error', () => res(false));
    });
    if (ok) return;
    if (performance.now() > deadlineMs) throw new Error(`nothing listening at ${url} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const peer of PEERS) {
  for (const transport of ['tcp', 'ipc'] as const) {
    // Concurrent: each test has its own address and peers, and most of its time is a peer's 1 s survey.
    describe.concurrent(`SURVEYOR/RESPONDENT interop: netlab <-> ${peer.command} over ${transport}`, () => {
      it(`netlab SURVEYOR listens, two ${peer.command} RESPONDENTs dial: both answers, then ErrTimedOut`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-sl`);
        await withEnv(async (env, sockets) => {
          const surv = openSurveyor0(env, { options: { 'SURVEY-TIME': 500 * MS_US } });
          sockets.push(surv);
          await surv.listen(url);
          const peers = ['yes1', 'yes2'].map((data) =>
            startPeer({
              command: peer.command,
              args: [
                peer.respondent,
                peer.dial,
                url,
                ...peer.dialAsync,
                '--data',
                data,
                '--quoted',
                ...peer.countOne,
              ],
              timeoutMs: 10_000,
            }),
          );
          await untilPipes(env, surv, 2);
          await surv.send(text('q?'));
          expect(await collect(surv)).toEqual({ got: ['yes1', 'yes2'], end: 'ErrTimedOut' });
          expect(surveyor0Stats(surv)!.staleResponses).toBe(0);
          for (const p of peers) {
            await p.waitForOutput(/"q\?"/, 5_000);
            if (peer.command === 'nngcat') expect((await p.done).code).toBe(0);
            else await p.stop();
          }
        });
      });

      it(`netlab SURVEYOR dials ${peer.command} RESPONDENT (${peer.command} listens)`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-sd`);
        const p = startPeer({
          command: peer.command,
          args: [peer.respondent, peer.listen, url, '--data', 'here', '--quoted', ...peer.countOne],
          timeoutMs: 10_000,
        });
        await withEnv(async (env, sockets) => {
          const surv = openSurveyor0(env, { options: { ...DIAL_EARLY, 'SURVEY-TIME': 500 * MS_US } });
          sockets.push(surv);
          await surv.dial(url);
          await untilPipes(env, surv, 1);
          await surv.send(text('who?'));
          expect(await collect(surv)).toEqual({ got: ['here'], end: 'ErrTimedOut' });
          // After the survey: nothing to receive.
          try {
            await surv.recv();
            expect.unreachable();
          } catch (e) {
            expect((e as SpError).code).toBe('ErrProtoState');
          }
        });
        await p.waitForOutput(/"who\?"/, 5_000);
        if (peer.command === 'nngcat') expect((await p.done).code).toBe(0);
        else await p.stop();
      });

      it(`${peer.command} SURVEYOR listens, netlab RESPONDENT dials and answers`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-rd`);
        // -d 1: the surveyor waits for the respondent to connect before it surveys.
        const p = startPeer({
          command: peer.command,
          args: [peer.surveyor, peer.listen, url, '--data', 'q?', '-d', '1', '--quoted'],
          timeoutMs: 10_000,
        });
        await withEnv(async (env, sockets) => {
          const resp = openRespondent0(env, { options: { ...DIAL_EARLY, 'RECV-DEADLINE': 5 * SECOND_US } });
          sockets.push(resp);
          await resp.dial(url);
          const q = await resp.recvMsg();
          expect(str(q.body)).toBe('q?');
          // The backtrace is the survey id alone, top bit set.
          expect(q.header.length).toBe(4);
          expect(q.header[0]! & 0x80).toBe(0x80);
          await resp.send(text('netlab says yes'));
          const result = await p.done;
          expect(str(result.stdout)).toBe('"netlab says yes"\n');
          expect(result.code).toBe(0);
        });
      });

      it(`${peer.command} SURVEYOR dials netlab RESPONDENT (netlab listens)`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-rl`);
        await withEnv(async (env, sockets) => {
          const resp = openRespondent0(env, { options: { 'RECV-DEADLINE': 5 * SECOND_US } });
          sockets.push(resp);
          await resp.listen(url);
          const p = startPeer({
            command: peer.command,
            // nanocat connects in the background: -d 1 lets the connection come up before the survey.
            args: [
              peer.surveyor,
              peer.dial,
              url,
              '--data',
              'q?',
              ...(peer.command === 'nanocat' ? ['-d', '1'] : []),
              '--quoted',
            ],
            timeoutMs: 10_000,
          });
          expect(str(await resp.recv())).toBe('q?');
          await resp.send(text('yes'));
          const result = await p.done;
          expect(str(result.stdout)).toBe('"yes"\n');
          expect(result.code).toBe(0);
        });
      });
    });
  }
}

/** Starts the listener, waits until it accepts, then runs the dialer to completion. */
async function exchange(
  listener: { command: string; args: string[] },
  dialer: { command: string; args: string[] },
  url: string,
): Promise<{ listener: PeerResult; dialer: PeerResult }> {
  const l = startPeer({ ...listener, timeoutMs: 15_000 });
  await waitUntilListening(url, 8_000);
  const d = await runPeer({ ...dialer, timeoutMs: 15_000 });
  return { listener: await l.done, dialer: d };
}

const outcome = (r: PeerResult): { stdout: string; stderr: string; code: number | null } => ({
  stdout: str(r.stdout),
  stderr: r.stderr.trim(),
  code: r.code,
});

type Side = 'listener' | 'dialer';

/**
 * Runs the same exchange twice, the `ours` side played once by nngcat and once by netlab cat (the
 * other side is nngcat both times), and expects the same outcome on both sides.
 */
async function compareWithNngcat(
  oursSide: Side,
  args: Record<Side, (url: string) => string[]>,
): Promise<{ listener: ReturnType<typeof outcome>; dialer: ReturnType<typeof outcome> }> {
  const run = async (ourCommand: 'nngcat' | 'netlab') => {
    const url = `tcp://127.0.0.1:${await freeTcpPort()}`;
    const cmd = (side: Side): { command: string; args: string[] } =>
      side === oursSide && ourCommand === 'netlab'
        ? { command: NETLAB, args: ['cat', ...args[side](url)] }
        : { command: 'nngcat', args: args[side](url) };
    const r = await exchange(cmd('listener'), cmd('dialer'), url);
    return { listener: outcome(r.listener), dialer: outcome(r.dialer) };
  };
  const reference = await run('nngcat');
  const ours = await run('netlab');
  expect(ours).toEqual(reference);
  return ours;
}

describe('netlab cat <-> nngcat (surveyor0/respondent0), compared with nngcat in the same role', () => {
  // The respondent dials and answers one survey; the surveyor listens, waits 1 s for it (-d 1),
  // surveys and prints the answer until the 1 s survey expires (exit 0).
  const respondent = (url: string): string[] => [
    '--respondent0',
    '--dial',
    url,
    '--async',
    '--data',
    'yes',
    '--quoted',
    '--count',
    '1',
  ];
  const surveyor = (url: string): string[] => [
    '--surveyor0',
    '--listen',
    url,
    '--data',
    'q?',
    '-d',
    '1',
    '--quoted',
  ];

  for (const oursSide of ['listener', 'dialer'] as const) {
    const ours = oursSide === 'listener' ? 'surveyor0' : 'respondent0';
    it(`netlab cat --${ours} as the ${oursSide}: same output and exit codes as nngcat`, async (ctx) => {
      gatePeers(ctx, ['nngcat']);
      const got = await compareWithNngcat(oursSide, { listener: surveyor, dialer: respondent });
      expect(got.listener).toEqual({ stdout: '"yes"\n', stderr: '', code: 0 });
      expect(got.dialer).toEqual({ stdout: '"q?"\n', stderr: '', code: 0 });
    });
  }
});
