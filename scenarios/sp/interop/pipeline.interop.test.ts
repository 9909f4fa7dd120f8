/**
 * PUSH0/PULL0 interop with third-party SP peers over real loopback TCP and ipc: netlab (the library
 * on the real runtime) against nngcat (nng 1.5.2) and nanocat (nanomsg 1.1.5), PUSH and PULL on
 * either side, each side listening or dialing (the interop matrix's cells, shared with `netlab
 * interop`); a 1 MiB message through --file; load spread over two nngcat pullers; and `netlab cat
 * --push0/--pull0` compared with nngcat in the same role. Missing peers fail the test under
 * NETLAB_REQUIRE_PEERS=1 (CI) and skip it otherwise.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { NodeEnv } from '../../../impl/runtime/node.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openPull0, openPush0 } from '../../../impl/sp/protocol/pipeline.js';
import {
  freeTcpPort,
  gatePeers,
  runPeer,
  startPeer,
  stopAllPeers,
  tempIpcPath,
} from '../../interop/harness.js';
import { cellTitle, dialectOf, directCells, runCell } from './matrix.js';
import { interopAddress, waitUntilListening, withRealEnv } from './support.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

const NETLAB = new URL('../../../bin/netlab', import.meta.url).pathname;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

interface PeerCmd {
  command: 'nngcat' | 'nanocat';
  push: string;
  pull: string;
  dial: string;
  listen: string;
  /** nngcat's PULL exits after --count messages; nanocat's loops until stopped. */
  counts: boolean;
}
const PEERS: PeerCmd[] = [
  { command: 'nngcat', push: '--push0', pull: '--pull0', dial: '--dial', listen: '--listen', counts: true },
  { command: 'nanocat', push: '--push', pull: '--pull', dial: '--connect', listen: '--bind', counts: false },
];

const withEnv = <T>(fn: (env: NodeEnv, sockets: Socket[]) => Promise<T>): Promise<T> =>
  withRealEnv('interop', fn);

async function waitForPipes(env: NodeEnv, s: Socket, n: number, timeoutMs: number): Promise<void> {
  const endUs = env.nowUs() + timeoutMs * 1000;
  while (s.pipes.size < n) {
    if (env.nowUs() > endUs) throw new Error(`only ${s.pipes.size} of ${n} pipes attached`);
    await env.sleep(10_000);
  }
}

// The matrix cells (scenarios/sp/interop/cells.ts), shared with `netlab interop`: both roles, both transports.
describe.concurrent('PUSH/PULL interop cells (the netlab interop matrix)', () => {
  for (const cell of directCells(['push0', 'pull0'])) {
    it(cellTitle(cell), async (ctx) => {
      gatePeers(ctx, [dialectOf(cell.peer).command]);
      const r = await runCell(cell, { timeoutMs: 15_000 });
      expect(r.status, r.detail).toBe('pass');
    });
  }
});

for (const peer of PEERS) {
  for (const transport of ['tcp', 'ipc'] as const) {
    const address = (tag: string): Promise<string> =>
      interopAddress(transport, `pipeline-${peer.command}-${tag}`);

    describe(`PUSH/PULL interop: netlab <-> ${peer.command} over ${transport}`, () => {
      it(`${peer.command} PUSH sends 1 MiB (--file) and netlab PULL receives it intact`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address('big');
        const big = new Uint8Array(1 << 20);
        for (let i = 0; i < big.length; i++) big[i] = (i * 131) & 0xff;
        const file = tempIpcPath(`pipeline-big-${peer.command}-${transport}.bin`);
        writeFileSync(file, big);
        await withEnv(async (env, sockets) => {
          const s = openPull0(env, { options: { 'RECV-DEADLINE': 8_000_000, 'MAX-RCV-SIZE': 1 << 20 } });
          sockets.push(s);
          await s.listen(url);
          const p = startPeer({
            command: peer.command,
            // nanocat exits right after its send returns, cutting a 1 MiB frame short (seen against
            // nngcat too); with --interval it keeps sending, so the first copy arrives whole.
            args: [peer.push, peer.dial, url, '--file', file, ...(peer.counts ? [] : ['--interval', '1'])],
            timeoutMs: 15_000,
          });
          const got = await s.recv();
          expect(got.length).toBe(big.length);
          expect(Buffer.compare(Buffer.from(got), Buffer.from(big))).toBe(0);
          if (peer.counts) expect((await p.done).code).toBe(0);
          else await p.stop();
        });
      });
    });
  }
}

describe('PUSH/PULL backpressure over real loopback TCP (netlab on both sides)', () => {
  it('37. a PULL that stops reading blocks the pusher through TCP; it loses nothing once it reads', async () => {
    const url = await interopAddress('tcp', 'pipeline-bp');
    await withEnv(async (env, sockets) => {
      const pull = openPull0(env, { options: { 'READQ-LEN': 2 } });
      sockets.push(pull);
      await pull.listen(url);
      const push = openPush0(env, { options: { 'WRITEQ-LEN': 4, 'SEND-DEADLINE': 300_000 } });
      sockets.push(push);
      await push.dial(url);
      const msg = (i: number): Uint8Array => new Uint8Array(64 * 1024).fill(i & 0xff);
      // Nobody reads: the kernel buffers fill, then the send queue, then a send times out.
      let accepted = 0;
      for (;;) {
        try {
          await push.send(msg(accepted));
        } catch (e) {
          expect((e as { code?: string }).code).toBe('ErrSendTimeout');
          break;
        }
        accepted++;
        if (accepted > 10_000) throw new Error('the pusher never felt any backpressure');
      }
      expect(pull.recvQ.length).toBeLessThanOrEqual(2);
      for (let i = 0; i < accepted; i++) expect((await pull.recv())[0]).toBe(i & 0xff);
    });
  });
});

describe('PUSH load spread against nngcat pullers', () => {
  it('two nngcat PULLs dialing a netlab PUSH get five of ten jobs each, alternating', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const url = await interopAddress('tcp', 'pipeline-spread');
    await withEnv(async (env, sockets) => {
      const s = openPush0(env, { options: { 'SEND-DEADLINE': 5_000_000 } });
      sockets.push(s);
      await s.listen(url);
      const pullers = [0, 1].map(() =>
        startPeer({
          command: 'nngcat',
          args: ['--pull0', '--dial', url, '--count', '5', '--quoted'],
          timeoutMs: 10_000,
        }),
      );
      await waitForPipes(env, s, 2, 5_000);
      for (let i = 0; i < 10; i++) await s.send(text(`j${i}`));
      const outs = (await Promise.all(pullers.map((p) => p.done))).map((r) =>
        new TextDecoder().decode(r.stdout),
      );
      const lines = outs.map((o) => o.trim().split('\n'));
      expect(lines.map((l) => l.length)).toEqual([5, 5]);
      // Strict rotation: one puller got the even jobs, the other the odd ones.
      const evens = ['"j0"', '"j2"', '"j4"', '"j6"', '"j8"'];
      const odds = ['"j1"', '"j3"', '"j5"', '"j7"', '"j9"'];
      expect([lines[0], lines[1]]).toContainEqual(evens);
      expect([lines[0], lines[1]]).toContainEqual(odds);
    });
  });
});

/**
 * The same PUSH -> PULL exchange with the `ours` side played once by nngcat and once by netlab cat,
 * the other side nngcat both times: same output and exit codes.
 */
describe('netlab cat <-> nngcat (push0/pull0), compared with nngcat in the same role', () => {
  const pushArgs = (mode: string, url: string): string[] => ['--push0', mode, url, '--data', 'job'];
  const pullArgs = (mode: string, url: string): string[] => [
    '--pull0',
    mode,
    url,
    '--count',
    '1',
    '--quoted',
  ];

  for (const ours of ['push0', 'pull0'] as const) {
    for (const oursListens of [true, false]) {
      it(`netlab cat --${ours} ${oursListens ? 'listening' : 'dialing'}: same output and exit codes as nngcat`, async (ctx) => {
        gatePeers(ctx, ['nngcat']);
        const run = async (ourCommand: 'nngcat' | 'netlab') => {
          const url = `tcp://127.0.0.1:${await freeTcpPort()}`;
          const oursMode = oursListens ? '--listen' : '--dial';
          const theirMode = oursListens ? '--dial' : '--listen';
          const ourArgs = ours === 'push0' ? pushArgs(oursMode, url) : pullArgs(oursMode, url);
          const theirArgs = ours === 'push0' ? pullArgs(theirMode, url) : pushArgs(theirMode, url);
          const listenerFirst = oursListens
            ? ourCommand === 'netlab'
              ? { command: NETLAB, args: ['cat', ...ourArgs] }
              : { command: 'nngcat', args: ourArgs }
            : { command: 'nngcat', args: theirArgs };
          const dialer = oursListens
            ? { command: 'nngcat', args: theirArgs }
            : ourCommand === 'netlab'
              ? { command: NETLAB, args: ['cat', ...ourArgs] }
              : { command: 'nngcat', args: ourArgs };
          const listening = startPeer({ ...listenerFirst, timeoutMs: 10_000 });
          await waitUntilListening(url, 8_000);
          const dialed = await runPeer({ ...dialer, timeoutMs: 10_000 });
          const listened = await listening.done;
          const outcome = (r: { stdout: Uint8Array; code: number | null }) => ({
            stdout: new TextDecoder().decode(r.stdout),
            code: r.code,
          });
          const ourResult = oursListens ? listened : dialed;
          const theirResult = oursListens ? dialed : listened;
          return { ours: outcome(ourResult), theirs: outcome(theirResult) };
        };
        const reference = await run('nngcat');
        const got = await run('netlab');
        expect(got).toEqual(reference);
        const pull = ours === 'pull0' ? got.ours : got.theirs;
        const push = ours === 'push0' ? got.ours : got.theirs;
        expect(pull).toEqual({ stdout: '"job"\n', code: 0 });
        expect(push).toEqual({ stdout: '', code: 0 });
      });
    }
  }

  it('netlab cat --push0 with no puller and --send-timeout fails as nngcat does', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const url = `tcp://127.0.0.1:${await freeTcpPort()}`;
    const args = ['--push0', '--listen', url, '--data', 'x', '--send-timeout', '1'];
    const theirs = await runPeer({ command: 'nngcat', args, timeoutMs: 8_000 });
    const ours = await runPeer({ command: NETLAB, args: ['cat', ...args], timeoutMs: 8_000 });
    expect([ours.code, ours.stderr.trim()]).toEqual([theirs.code, theirs.stderr.trim()]);
    expect(theirs.code).toBe(1);
  });
});
