/**
 * BUS interop with third-party SP peers over real loopback TCP and ipc: netlab (the library on the
 * real runtime) against nngcat (nng 1.5.2, `--bus0`) and nanocat (nanomsg 1.1.5, `--bus`), both
 * roles (the interop matrix's cells, shared with `netlab interop`); a netlab hub with two peers
 * never relays one's message to the other; and `netlab cat --bus0` against nngcat. Missing peers
 * fail the test under NETLAB_REQUIRE_PEERS=1 (CI) and skip it otherwise.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { NodeEnv } from '../../../impl/runtime/node.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openBus0 } from '../../../impl/sp/protocol/bus.js';
import { cellTitle, dialectOf, directCells, runCell } from './matrix.js';
import { interopAddress, waitUntilListening, withRealEnv } from './support.js';
import { gatePeers, startPeer, stopAllPeers } from '../../interop/harness.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

const NETLAB = new URL('../../../bin/netlab', import.meta.url).pathname;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

const withEnv = <T>(fn: (env: NodeEnv, sockets: Socket[]) => Promise<T>): Promise<T> =>
  withRealEnv('interop-bus', fn);

/** Waits until `s` has `n` pipes: a BUS send before its peers attach reaches nobody. */
async function pipes(env: NodeEnv, s: Socket, n: number, timeoutMs = 5_000): Promise<void> {
  for (let waited = 0; s.pipes.size < n; waited += 10) {
    if (waited > timeoutMs) throw new Error(`only ${s.pipes.size} of ${n} pipes after ${timeoutMs} ms`);
    await env.sleep(10_000);
  }
}

// The matrix cells (scenarios/sp/interop/cells.ts), shared with `netlab interop`: both roles, both transports.
describe.concurrent('BUS interop cells (the netlab interop matrix)', () => {
  for (const cell of directCells(['bus0'])) {
    it(cellTitle(cell), async (ctx) => {
      gatePeers(ctx, [dialectOf(cell.peer).command]);
      const r = await runCell(cell, { timeoutMs: 15_000 });
      expect(r.status, r.detail).toBe('pass');
    });
  }
});

describe('BUS interop: relaying', () => {
  it('a netlab hub never relays between two nngcat peers; its own send reaches both', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const url = await interopAddress('tcp', 'bus-hub');
    await withEnv(async (env, sockets) => {
      const hub = openBus0(env, { options: { 'RECV-DEADLINE': 5_000_000 } });
      sockets.push(hub);
      await hub.listen(url);
      const quietPeer = startPeer({
        command: 'nngcat',
        args: ['--bus0', '--dial', url, '--recv-timeout', '3', '--quoted'],
        timeoutMs: 10_000,
      });
      await pipes(env, hub, 1);
      const talker = startPeer({
        command: 'nngcat',
        args: ['--bus0', '--dial', url, '--data', 'from-talker', '--recv-timeout', '2', '--quoted'],
        timeoutMs: 10_000,
      });
      expect(str(await hub.recv())).toBe('from-talker');
      await hub.send(text('from-hub'));
      await talker.waitForOutput(/"from-hub"/, 5_000);
      await quietPeer.waitForOutput(/"from-hub"/, 5_000);
      const quiet = await quietPeer.done;
      expect(new TextDecoder().decode(quiet.stdout)).toBe('"from-hub"\n');
      expect((await talker.done).code).toBe(0);
    });
  });
});

describe('netlab cat --bus0 against nngcat', () => {
  it('netlab cat listens, nngcat dials (tcp)', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const url = await interopAddress('tcp', 'bus-cat');
    const cat = startPeer({
      command: process.execPath,
      args: [NETLAB, 'cat', '--bus0', '--listen', url, '--recv-timeout', '2', '--quoted'],
      timeoutMs: 10_000,
    });
    // netlab cat's 2 s receive timeout starts once it listens; nngcat's 1 s delay must start after.
    await waitUntilListening(url, 8_000);
    const ng = startPeer({
      command: 'nngcat',
      args: ['--bus0', '--dial', url, '--async', '--data', 'to-cat', '-d', '1', '--recv-timeout', '1'],
      timeoutMs: 10_000,
    });
    await cat.waitForOutput(/"to-cat"/, 6_000);
    expect((await ng.done).code).toBe(0);
    expect((await cat.done).code).toBe(0);
  });

  it('nngcat listens, netlab cat dials (ipc)', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const url = await interopAddress('ipc', 'bus-cat2');
    const ng = startPeer({
      command: 'nngcat',
      args: ['--bus0', '--listen', url, '--recv-timeout', '2', '--quoted'],
      timeoutMs: 10_000,
    });
    const cat = startPeer({
      command: process.execPath,
      args: [
        NETLAB,
        'cat',
        '--bus0',
        '--dial',
        url,
        '--async',
        '--data',
        'from-cat',
        '-d',
        '1',
        '--recv-timeout',
        '1',
      ],
      timeoutMs: 10_000,
    });
    await ng.waitForOutput(/"from-cat"/, 6_000);
    expect((await cat.done).code).toBe(0);
    expect((await ng.done).code).toBe(0);
  });
});

describe('netlab cat --star (mangos STAR; no third-party cat speaks it)', () => {
  it('two netlab cats exchange messages over a STAR pipe', async () => {
    const url = await interopAddress('tcp', 'star-cat');
    const listener = startPeer({
      command: process.execPath,
      args: [
        NETLAB,
        'cat',
        '--star',
        '--listen',
        url,
        '--data',
        'from-l',
        '-d',
        '1',
        '--recv-timeout',
        '2',
        '--quoted',
      ],
      timeoutMs: 10_000,
    });
    const dialer = startPeer({
      command: process.execPath,
      args: [
        NETLAB,
        'cat',
        '--star',
        '--dial',
        url,
        '--async',
        '--data',
        'from-d',
        '-d',
        '1',
        '--recv-timeout',
        '2',
        '--quoted',
      ],
      timeoutMs: 10_000,
    });
    const [l, d] = await Promise.all([listener.done, dialer.done]);
    expect(new TextDecoder().decode(l.stdout)).toBe('"from-d"\n');
    expect(new TextDecoder().decode(d.stdout)).toBe('"from-l"\n');
    expect([l.code, d.code]).toEqual([0, 0]);
  });
});
