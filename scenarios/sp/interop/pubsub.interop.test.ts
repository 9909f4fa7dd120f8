/**
 * PUB/SUB interop with third-party SP peers over real loopback TCP and ipc: netlab (the library on
 * the real runtime) against nngcat (nng 1.5.2) and nanocat (nanomsg 1.1.5) in both roles, with
 * prefix subscriptions on either side (the interop matrix's cells, shared with `netlab interop`);
 * and `netlab cat --pub0/--sub0` against them. Missing peers fail the test under
 * NETLAB_REQUIRE_PEERS=1 (CI) and skip it otherwise.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cellTitle, dialectOf, directCells, runCell } from './matrix.js';
import { interopAddress, waitUntilListening } from './support.js';
import { freeTcpPort, gatePeers, runPeer, startPeer, stopAllPeers } from '../../interop/harness.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

const str = (b: Uint8Array): string => new TextDecoder().decode(b);
const NETLAB = new URL('../../../bin/netlab', import.meta.url).pathname;

const address = (transport: 'tcp' | 'ipc', tag: string): Promise<string> =>
  interopAddress(transport, `pubsub-${tag}`);

// The matrix cells (scenarios/sp/interop/cells.ts), shared with `netlab interop`: both roles, both transports.
describe.concurrent('PUB/SUB interop cells (the netlab interop matrix)', () => {
  for (const cell of directCells(['pub0', 'sub0'])) {
    it(cellTitle(cell), async (ctx) => {
      gatePeers(ctx, [dialectOf(cell.peer).command]);
      const r = await runCell(cell, { timeoutMs: 15_000 });
      expect(r.status, r.detail).toBe('pass');
    });
  }
});

describe('netlab cat --pub0/--sub0 against nngcat and nanocat', () => {
  it('netlab cat --sub0 --subscribe a prints what nngcat publishes on a-topics only', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const url = await address('tcp', 'cat-sub');
    const ours = startPeer({
      command: NETLAB,
      args: ['cat', '--sub0', '--listen', url, '--subscribe', 'a', '--recv-timeout', '3', '--quoted'],
      timeoutMs: 10_000,
    });
    await waitUntilListening(url, 8_000);
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
    await waitUntilListening(url, 8_000);
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
