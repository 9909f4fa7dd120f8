/**
 * PUB/SUB interop with third-party SP peers over real loopback TCP and ipc: netlab (the library on
 * the real runtime) against nngcat (nng 1.5.2) and nanocat (nanomsg 1.1.5) in both roles, with
 * prefix subscriptions on either side; and `netlab cat --pub0/--sub0` against them. Missing peers
 * fail the test under NETLAB_REQUIRE_PEERS=1 (CI) and skip it otherwise.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { NodeEnv } from '../../impl/runtime/node.js';
import type { Socket } from '../../impl/sp/core/socket.js';
import { SpError } from '../../impl/sp/errors.js';
import { openPub0, openSub0, sub0Stats } from '../../impl/sp/protocol/pubsub.js';
import { interopAddress, withRealEnv } from './support.js';
import { freeTcpPort, gatePeers, runPeer, startPeer, stopAllPeers } from '../peers/harness.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);
const NETLAB = new URL('../netlab', import.meta.url).pathname;

interface PeerCmd {
  command: 'nngcat' | 'nanocat';
  pub: string;
  sub: string;
  dial: string;
  listen: string;
}
const PEERS: PeerCmd[] = [
  { command: 'nngcat', pub: '--pub0', sub: '--sub0', dial: '--dial', listen: '--listen' },
  { command: 'nanocat', pub: '--pub', sub: '--sub', dial: '--connect', listen: '--bind' },
];

const address = (transport: 'tcp' | 'ipc', tag: string): Promise<string> =>
  interopAddress(transport, `pubsub-${tag}`);
const withEnv = <T>(fn: (env: NodeEnv, sockets: Socket[]) => Promise<T>): Promise<T> =>
  withRealEnv('interop', fn);

/** The quoted lines a peer printed, unquoted. */
const lines = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^"|"$/g, ''));

for (const peer of PEERS) {
  for (const transport of ['tcp', 'ipc'] as const) {
    describe(`PUB/SUB interop: netlab <-> ${peer.command} over ${transport}`, () => {
      it(`netlab PUB listens, ${peer.command} SUB dials with --subscribe a: only a-topics arrive`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-pub`);
        await withEnv(async (env, sockets) => {
          const pub = openPub0(env);
          sockets.push(pub);
          await pub.listen(url);
          const p = startPeer({
            command: peer.command,
            args: [peer.sub, peer.dial, url, '--subscribe', 'a', '--recv-timeout', '3', '--quoted'],
            timeoutMs: 10_000,
          });
          // The subscriber connects when it connects: publish until it has printed a full round.
          let seen = false;
          const waiting = p.waitForOutput(/"avocado"/, 6_000).then(() => (seen = true));
          for (let i = 0; i < 50 && !seen; i++) {
            for (const w of ['apple', 'banana', 'avocado']) await pub.send(text(w));
            await env.sleep(100_000);
          }
          await waiting;
          const out = lines(str((await p.stop()).stdout));
          expect(out.length).toBeGreaterThanOrEqual(2);
          expect(out.every((l) => l === 'apple' || l === 'avocado')).toBe(true);
        });
      });

      it(`${peer.command} PUB dials, netlab SUB listens subscribed to a: apple arrives, banana is filtered`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-sub`);
        await withEnv(async (env, sockets) => {
          const sub = openSub0(env, { options: { 'RECV-DEADLINE': 5_000_000, SUBSCRIBE: text('a') } });
          sockets.push(sub);
          await sub.listen(url);
          const peers = ['banana', 'apple'].map((w) =>
            startPeer({
              command: peer.command,
              args: [peer.pub, peer.dial, url, '--data', w, '--delay', '1'],
              timeoutMs: 10_000,
            }),
          );
          expect(str(await sub.recv())).toBe('apple');
          const results = await Promise.all(peers.map((p) => p.done));
          expect(results.map((r) => r.code)).toEqual([0, 0]);
          await env.sleep(200_000);
          sub.setOption('RECV-DEADLINE', 300_000);
          const next = await sub.recv().then(
            () => 'message',
            (e: unknown) => (e instanceof SpError ? e.code : String(e)),
          );
          expect(next).toBe('ErrRecvTimeout');
          expect(sub0Stats(sub)!.filtered).toBe(1);
        });
      });
    });
  }
}

describe('netlab cat --pub0/--sub0 against nngcat and nanocat', () => {
  it('netlab cat --sub0 --subscribe a prints what nngcat publishes on a-topics only', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const url = await address('tcp', 'cat-sub');
    const ours = startPeer({
      command: NETLAB,
      args: ['cat', '--sub0', '--listen', url, '--subscribe', 'a', '--recv-timeout', '3', '--quoted'],
      timeoutMs: 10_000,
    });
    await new Promise((r) => setTimeout(r, 700));
    const theirs = ['banana', 'apple'].map((w) =>
      startPeer({ command: 'nngcat', args: ['--pub0', '--dial', url, '--data', w], timeoutMs: 5_000 }),
    );
    expect((await Promise.all(theirs.map((p) => p.done))).map((r) => r.code)).toEqual([0, 0]);
    const result = await ours.done;
    expect(str(result.stdout)).toBe('"apple"\n');
    expect(result.code).toBe(0);
  });

  it('nanocat --sub prints what netlab cat --pub0 publishes after --delay', async (ctx) => {
    gatePeers(ctx, ['nanocat']);
    const url = await address('ipc', 'cat-pub');
    const theirs = startPeer({
      command: 'nanocat',
      args: ['--sub', '--bind', url, '--recv-timeout', '3', '--quoted'],
      timeoutMs: 10_000,
    });
    await new Promise((r) => setTimeout(r, 300));
    const ours = startPeer({
      command: NETLAB,
      args: ['cat', '--pub0', '--dial', url, '--data', 'tick', '--count', '2', '--delay', '1'],
      timeoutMs: 10_000,
    });
    expect((await ours.done).code).toBe(0);
    await theirs.waitForOutput(/"tick"\n"tick"\n/, 3_000);
    await theirs.stop();
  });

  it('the same pub0/sub0 failures give the same exit codes and messages as nngcat', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const port = await freeTcpPort();
    const url = `tcp://127.0.0.1:${port}`;
    const cases: string[][] = [
      ['--pub0', '--dial', url, '--data', 'x'],
      ['--pub0', '--dial', url],
      ['--pub0', '--dial', url, '--data', 'x', '--quoted'],
      ['--sub0', '--dial', url, '--data', 'x'],
      ['--pair0', '--dial', url, '--subscribe', 'a'],
      ['--sub0', '--listen', 'foo://x'],
    ];
    for (const args of cases) {
      const theirs = await runPeer({ command: 'nngcat', args, timeoutMs: 5_000 });
      const ours = await runPeer({ command: NETLAB, args: ['cat', ...args], timeoutMs: 5_000 });
      expect(ours.code, args.join(' ')).toBe(theirs.code);
      expect(ours.stderr.trim(), args.join(' ')).toBe(theirs.stderr.trim());
    }
  });
});
