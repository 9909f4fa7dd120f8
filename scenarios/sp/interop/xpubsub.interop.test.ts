/**
 * Raw PUB/SUB (XPUB, XSUB) interop with third-party SP peers over real loopback TCP and ipc: a
 * netlab XSUB receives everything an nngcat / nanocat publisher sends (it has no subscriptions and
 * filters nothing); a netlab XPUB publishes to an nngcat / nanocat subscriber, which filters by its
 * own --subscribe; and a netlab forwarder (XSUB | device | XPUB) carries an nngcat publisher's
 * messages to a nanocat subscriber. The wire is PUB/SUB's: raw sockets add no header. Missing peers
 * fail the test under NETLAB_REQUIRE_PEERS=1 (CI) and skip it otherwise.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { NodeEnv } from '../../../impl/runtime/node.js';
import { device } from '../../../impl/sp/core/device.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openXPub0, openXSub0 } from '../../../impl/sp/protocol/pubsub.js';
import { interopAddress, withRealEnv } from './support.js';
import { gatePeers, startPeer, stopAllPeers } from '../../interop/harness.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

interface PeerCmd {
  command: 'nngcat' | 'nanocat';
  pub: string;
  sub: string;
  dial: string;
}
const PEERS: PeerCmd[] = [
  { command: 'nngcat', pub: '--pub0', sub: '--sub0', dial: '--dial' },
  { command: 'nanocat', pub: '--pub', sub: '--sub', dial: '--connect' },
];

const address = (transport: 'tcp' | 'ipc', tag: string): Promise<string> =>
  interopAddress(transport, `xpubsub-${tag}`);
const withEnv = <T>(fn: (env: NodeEnv, sockets: Socket[]) => Promise<T>): Promise<T> =>
  withRealEnv('interop-xpubsub', fn);

/** The quoted lines a peer printed, unquoted. */
const lines = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.replace(/^"|"$/g, ''));

for (const peer of PEERS) {
  for (const transport of ['tcp', 'ipc'] as const) {
    describe(`XPUB/XSUB interop: netlab <-> ${peer.command} over ${transport}`, () => {
      it(`netlab XSUB listens; ${peer.command} PUBs dial: every topic arrives, header empty`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-xsub`);
        await withEnv(async (env, sockets) => {
          const xsub = openXSub0(env, { options: { 'RECV-DEADLINE': 5_000_000 } });
          sockets.push(xsub);
          await xsub.listen(url);
          const words = ['banana', 'apple'];
          const peers = words.map((w) =>
            startPeer({
              command: peer.command,
              args: [peer.pub, peer.dial, url, '--data', w, '--delay', '1'],
              timeoutMs: 10_000,
            }),
          );
          const got: string[] = [];
          for (let i = 0; i < words.length; i++) {
            const m = await xsub.recvMsg();
            expect(m.header.length).toBe(0);
            got.push(str(m.body));
          }
          expect(got.sort()).toEqual(['apple', 'banana']);
          expect((await Promise.all(peers.map((p) => p.done))).map((r) => r.code)).toEqual([0, 0]);
        });
      });

      it(`netlab XPUB listens; ${peer.command} SUB dials with --subscribe a and filters by itself`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-xpub`);
        await withEnv(async (env, sockets) => {
          const xpub = openXPub0(env);
          sockets.push(xpub);
          await xpub.listen(url);
          const p = startPeer({
            command: peer.command,
            args: [peer.sub, peer.dial, url, '--subscribe', 'a', '--recv-timeout', '3', '--quoted'],
            timeoutMs: 10_000,
          });
          // The subscriber connects when it connects: publish until it has printed a full round.
          let seen = false;
          const waiting = p.waitForOutput(/"avocado"/, 6_000).then(() => (seen = true));
          for (let i = 0; i < 50 && !seen; i++) {
            for (const w of ['apple', 'banana', 'avocado']) await xpub.send(text(w));
            await env.sleep(100_000);
          }
          await waiting;
          const out = lines(str((await p.stop()).stdout));
          expect(out.length).toBeGreaterThanOrEqual(2);
          expect(out.every((l) => l === 'apple' || l === 'avocado')).toBe(true);
        });
      });
    });
  }
}

describe('a netlab forwarder (XSUB | device | XPUB) between nngcat and nanocat', () => {
  for (const transport of ['tcp', 'ipc'] as const)
    it(`nngcat --pub0 -> netlab XSUB | XPUB -> nanocat --sub --subscribe a, over ${transport}`, async (ctx) => {
      gatePeers(ctx, ['nngcat', 'nanocat']);
      const front = await address(transport, 'fwd-front');
      const back = await address(transport, 'fwd-back');
      await withEnv(async (env, sockets) => {
        const xsub = openXSub0(env);
        const xpub = openXPub0(env);
        sockets.push(xsub, xpub);
        await xsub.listen(front);
        await xpub.listen(back);
        const forwarding = device(xsub, xpub).done;
        const sub = startPeer({
          command: 'nanocat',
          args: ['--sub', '--connect', back, '--subscribe', 'a', '--recv-timeout', '4', '--quoted'],
          timeoutMs: 15_000,
        });
        // Publishers repeat (nngcat's --interval takes whole seconds), so the subscriber hears
        // some whenever its connection lands.
        const pubs = ['banana', 'apple'].map((w) =>
          startPeer({
            command: 'nngcat',
            args: ['--pub0', '--dial', front, '--data', w, '--interval', '1', '--count', '10'],
            timeoutMs: 15_000,
          }),
        );
        await sub.waitForOutput(/("apple"\n){2}/, 8_000);
        const out = lines(str((await sub.stop()).stdout));
        for (const p of pubs) await p.stop();
        expect(out.length).toBeGreaterThanOrEqual(2);
        expect(out.every((l) => l === 'apple')).toBe(true);
        await xsub.close();
        await forwarding;
      });
    });
});
