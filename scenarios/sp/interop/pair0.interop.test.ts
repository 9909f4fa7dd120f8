/**
 * PAIR0 interop with third-party SP peers over real loopback TCP and ipc: netlab (the library on
 * the real runtime) against nngcat (nng 1.5.2) and nanocat (nanomsg 1.1.5), both roles (the interop
 * matrix's cells, shared with `netlab interop`), and a message of exactly the max receive size sent
 * with --file. Missing peers fail the test under NETLAB_REQUIRE_PEERS=1 (CI) and skip it otherwise.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { NodeEnv } from '../../../impl/runtime/node.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openPair0 } from '../../../impl/sp/protocol/pair0.js';
import { cellTitle, dialectOf, directCells, runCell } from './matrix.js';
import { interopAddress, withRealEnv } from './support.js';
import { gatePeers, startPeer, stopAllPeers, tempIpcPath } from '../../interop/harness.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

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

// The matrix cells (scenarios/sp/interop/cells.ts): one message each way, both roles, both transports.
describe.concurrent('PAIR0 interop cells (the netlab interop matrix)', () => {
  for (const cell of directCells(['pair0'])) {
    it(cellTitle(cell), async (ctx) => {
      gatePeers(ctx, [dialectOf(cell.peer).command]);
      const r = await runCell(cell, { timeoutMs: 15_000 });
      expect(r.status, r.detail).toBe('pass');
    });
  }
});

for (const peer of PEERS) {
  for (const transport of ['tcp', 'ipc'] as const) {
    describe(`PAIR0 interop: netlab <-> ${peer.command} over ${transport}`, () => {
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
