/**
 * PAIR1 interop with nngcat (nng 1.5.2, `--pair1`) over real loopback TCP and ipc, both roles
 * (nanocat speaks PAIR v0 only): messages both ways through the hop-count header (the interop
 * matrix's cells, shared with `netlab interop`); a raw netlab socket sees the hop count nng writes
 * (1); and `netlab cat --pair1` against nngcat. A missing nngcat fails the test under
 * NETLAB_REQUIRE_PEERS=1 (CI) and skips it otherwise.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { NodeEnv } from '../../../impl/runtime/node.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openXPair1 } from '../../../impl/sp/protocol/pair1.js';
import { cellTitle, dialectOf, directCells, runCell } from './matrix.js';
import { interopAddress, withRealEnv } from './support.js';
import { gatePeers, startPeer, stopAllPeers } from '../../interop/harness.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

const NETLAB = new URL('../../../bin/netlab', import.meta.url).pathname;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

const withEnv = <T>(fn: (env: NodeEnv, sockets: Socket[]) => Promise<T>): Promise<T> =>
  withRealEnv('interop-pair1', fn);

// The matrix cells (scenarios/sp/interop/cells.ts), shared with `netlab interop`: both roles, both transports.
describe.concurrent('PAIR1 interop cells (the netlab interop matrix)', () => {
  for (const cell of directCells(['pair1'])) {
    it(cellTitle(cell), async (ctx) => {
      gatePeers(ctx, [dialectOf(cell.peer).command]);
      const r = await runCell(cell, { timeoutMs: 15_000 });
      expect(r.status, r.detail).toBe('pass');
    });
  }
});

describe('PAIR1 interop: hop count', () => {
  it('a raw netlab socket sees hop count 1 from nngcat, and its raw reply (hop 2) reaches nngcat', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const url = await interopAddress('tcp', 'pair1-raw');
    await withEnv(async (env, sockets) => {
      const s = openXPair1(env, { options: { 'RECV-DEADLINE': 5_000_000 } });
      sockets.push(s);
      await s.listen(url);
      const p = startPeer({
        command: 'nngcat',
        args: ['--pair1', '--dial', url, '--data', 'hop?', '--recv-timeout', '1', '--quoted'],
        timeoutMs: 10_000,
      });
      const m = await s.recvMsg();
      expect(Array.from(m.header)).toEqual([0, 0, 0, 1]);
      expect(str(m.body)).toBe('hop?');
      await s.sendMsg({ header: m.header, body: text('two-hops') });
      await p.waitForOutput(/"two-hops"/, 5_000);
      expect((await p.done).code).toBe(0);
    });
  });
});

describe('netlab cat --pair1 against nngcat', () => {
  it("each prints the other one's message, in both roles (tcp, ipc)", async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    for (const [transport, catRole] of [
      ['tcp', '--listen'],
      ['ipc', '--dial'],
    ] as const) {
      const url = await interopAddress(transport, `pair1-cat-${transport}`);
      const ngRole = catRole === '--listen' ? '--dial' : '--listen';
      const cat = startPeer({
        command: process.execPath,
        args: [
          NETLAB,
          'cat',
          '--pair1',
          catRole,
          url,
          '--async',
          '--data',
          'from-cat',
          '--recv-timeout',
          '2',
          '--quoted',
        ],
        timeoutMs: 10_000,
      });
      const ng = startPeer({
        command: 'nngcat',
        args: ['--pair1', ngRole, url, '--async', '--data', 'from-nngcat', '--recv-timeout', '2', '--quoted'],
        timeoutMs: 10_000,
      });
      const [c, n] = await Promise.all([cat.done, ng.done]);
      expect(new TextDecoder().decode(c.stdout)).toBe('"from-nngcat"\n');
      expect(new TextDecoder().decode(n.stdout)).toBe('"from-cat"\n');
      expect([c.code, n.code]).toEqual([0, 0]);
    }
  });
});
