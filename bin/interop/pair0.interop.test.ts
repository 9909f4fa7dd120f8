/**
 * PAIR0 interop with third-party SP peers over real loopback TCP and ipc: netlab (the library on the
 * real runtime) against nngcat (nng 1.5.2) and nanocat (nanomsg 1.1.5), both roles, including a
 * message of exactly the max receive size sent with --file. Missing peers fail the test under
 * NETLAB_REQUIRE_PEERS=1 (CI) and skip it otherwise.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { NodeEnv } from '../../impl/runtime/node.js';
import type { Socket } from '../../impl/sp/core/socket.js';
import { openPair0 } from '../../impl/sp/protocol/pair0.js';
import { interopAddress, withRealEnv } from './support.js';
import { gatePeers, startPeer, stopAllPeers, tempIpcPath } from '../peers/harness.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

interface PeerCmd {
  command: 'nngcat' | 'nanocat';
  proto: string;
  dial: string;
  listen: string;
}
const PEERS: PeerCmd[] = [
  { command: 'nngcat', proto: '--pair0', dial: '--dial', listen: '--listen' },
  { command: 'nanocat', proto: '--pair', dial: '--connect', listen: '--bind' },
];

const address = (transport: 'tcp' | 'ipc', tag: string): Promise<string> =>
  interopAddress(transport, `pair0-${tag}`);
const withEnv = <T>(fn: (env: NodeEnv, sockets: Socket[]) => Promise<T>): Promise<T> =>
  withRealEnv('interop', fn);

for (const peer of PEERS) {
  for (const transport of ['tcp', 'ipc'] as const) {
    describe(`PAIR0 interop: netlab <-> ${peer.command} over ${transport}`, () => {
      it(`netlab listens, ${peer.command} dials: messages both ways`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-l`);
        await withEnv(async (env, sockets) => {
          const s = openPair0(env, { options: { 'RECV-DEADLINE': 5_000_000 } });
          sockets.push(s);
          await s.listen(url);
          const p = startPeer({
            command: peer.command,
            args: [peer.proto, peer.dial, url, '--data', 'from-peer', '--recv-timeout', '2', '--quoted'],
            timeoutMs: 10_000,
          });
          expect(str(await s.recv())).toBe('from-peer');
          await s.send(text('from-netlab'));
          const out = await p.waitForOutput(/"from-netlab"/, 5_000);
          expect(out.stdout).toContain('"from-netlab"');
          const result = await p.done;
          expect(result.code).toBe(0);
        });
      });

      it(`${peer.command} listens, netlab dials: messages both ways`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-d`);
        await withEnv(async (env, sockets) => {
          const p = startPeer({
            command: peer.command,
            args: [peer.proto, peer.listen, url, '--data', 'from-peer', '--recv-timeout', '3', '--quoted'],
            timeoutMs: 10_000,
          });
          const s = openPair0(env, {
            options: { 'RECV-DEADLINE': 5_000_000, 'DIAL-ASYNCH': true, 'RECONNECT-TIME': 20_000 },
          });
          sockets.push(s);
          await s.dial(url); // asynchronous: the peer may still be binding
          await s.send(text('from-netlab'));
          expect(str(await s.recv())).toBe('from-peer');
          await p.waitForOutput(/"from-netlab"/, 5_000);
          expect((await p.done).code).toBe(0);
        });
      });

      it(`${peer.command} sends a message of exactly the max receive size (--file) and netlab receives it intact`, async (ctx) => {
        gatePeers(ctx, [peer.command]);
        const url = await address(transport, `${peer.command}-big`);
        const maxBytes = 1024 * 1024;
        const big = new Uint8Array(maxBytes);
        for (let i = 0; i < big.length; i++) big[i] = (i * 131) & 0xff;
        const file = tempIpcPath(`pair0-big-${peer.command}-${transport}.bin`);
        writeFileSync(file, big);
        await withEnv(async (env, sockets) => {
          const s = openPair0(env, { options: { 'RECV-DEADLINE': 8_000_000, 'MAX-RCV-SIZE': maxBytes } });
          sockets.push(s);
          await s.listen(url);
          const p = startPeer({
            command: peer.command,
            args: [peer.proto, peer.dial, url, '--file', file, '--delay', '1'],
            timeoutMs: 15_000,
          });
          const got = await s.recv();
          expect(got.length).toBe(maxBytes);
          expect(Buffer.compare(Buffer.from(got), Buffer.from(big))).toBe(0);
          await p.stop();
        });
      });
    });
  }
}
