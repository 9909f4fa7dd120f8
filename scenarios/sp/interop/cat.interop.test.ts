/**
 * `netlab cat` against nngcat: the same PAIR0 exchange with either side played by either tool, and
 * the same exit codes and messages for the same failures.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { freeTcpPort, gatePeers, runPeer, startPeer, stopAllPeers } from '../../interop/harness.js';
import { waitUntilListening } from './support.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

const NETLAB = new URL('../../../bin/netlab', import.meta.url).pathname;

describe('netlab cat <-> nngcat (pair0)', () => {
  it('netlab cat dials nngcat: both print the other message, both exit 0', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const url = `tcp://127.0.0.1:${await freeTcpPort()}`;
    const peer = startPeer({
      command: 'nngcat',
      args: ['--pair0', '--listen', url, '--data', 'from-nng', '--recv-timeout', '2', '--quoted'],
      timeoutMs: 10_000,
    });
    await waitUntilListening(url, 8_000);
    const ours = await runPeer({
      command: NETLAB,
      args: ['cat', '--pair0', '--dial', url, '--data', 'from-netlab', '--recv-timeout', '2', '--quoted'],
      timeoutMs: 10_000,
    });
    const theirs = await peer.done;
    expect(new TextDecoder().decode(ours.stdout)).toBe('"from-nng"\n');
    expect(new TextDecoder().decode(theirs.stdout)).toBe('"from-netlab"\n');
    expect([ours.code, theirs.code]).toEqual([0, 0]);
  });

  it('nngcat dials netlab cat with --hex output', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const url = `tcp://127.0.0.1:${await freeTcpPort()}`;
    const ours = startPeer({
      command: NETLAB,
      args: ['cat', '--pair0', '--listen', url, '--count', '1', '--hex'],
      timeoutMs: 10_000,
    });
    await waitUntilListening(url, 8_000);
    const theirs = await runPeer({
      command: 'nngcat',
      args: ['--pair0', '--dial', url, '--data', 'AB\n', '--send-timeout', '2', '--recv-timeout', '1'],
      timeoutMs: 10_000,
    });
    const result = await ours.done;
    expect(theirs.code).toBe(0);
    expect(new TextDecoder().decode(result.stdout)).toBe('"\\x41\\x42\\x0a"\n');
    expect(result.code).toBe(0);
  });

  it('the same failures give the same exit codes and messages as nngcat', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    const port = await freeTcpPort();
    const cases: string[][] = [
      ['--pair0', '--dial', `tcp://127.0.0.1:${port}`, '--data', 'x'],
      ['--pair0'],
      ['--pair0', '--pair1', '--dial', 'tcp://127.0.0.1:1'],
      ['--pair0', '--dial', 'tcp://127.0.0.1:1', '--bogus'],
      ['--pair0', '--dial', 'tcp://127.0.0.1:1', '--interval', '1'],
      ['--pair0', '--listen', 'foo://x'],
    ];
    for (const args of cases) {
      const theirs = await runPeer({ command: 'nngcat', args, timeoutMs: 5_000 });
      const ours = await runPeer({ command: NETLAB, args: ['cat', ...args], timeoutMs: 5_000 });
      expect(ours.code, args.join(' ')).toBe(theirs.code);
      expect(ours.stderr.trim(), args.join(' ')).toBe(theirs.stderr.trim());
    }
  });
});
