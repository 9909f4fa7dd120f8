/**
 * SURVEYOR/RESPONDENT interop with third-party SP peers over real loopback TCP and ipc: netlab (the
 * library on the real runtime) against nngcat (nng 1.5.2, --surveyor0/--respondent0) and nanocat
 * (nanomsg 1.1.5, --surveyor/--respondent) in both roles and both connection directions (the
 * interop matrix's cells, shared with `netlab interop`); and `netlab cat --surveyor0/--respondent0`
 * against nngcat, compared with nngcat in the same role. Missing peers fail the test under
 * NETLAB_REQUIRE_PEERS=1 (CI) and skip it otherwise.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cellTitle, dialectOf, directCells, runCell } from './matrix.js';
import { waitUntilListening } from './support.js';
import {
  freeTcpPort,
  gatePeers,
  runPeer,
  startPeer,
  stopAllPeers,
  type PeerResult,
} from '../../interop/harness.js';

vi.setConfig({ testTimeout: 20_000 });
afterAll(async () => {
  await stopAllPeers();
});

const NETLAB = new URL('../../../bin/netlab', import.meta.url).pathname;
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

// The matrix cells (scenarios/sp/interop/cells.ts), shared with `netlab interop`: both roles, both transports.
describe.concurrent('SURVEYOR/RESPONDENT interop cells (the netlab interop matrix)', () => {
  for (const cell of directCells(['surveyor0', 'respondent0'])) {
    it(cellTitle(cell), async (ctx) => {
      gatePeers(ctx, [dialectOf(cell.peer).command]);
      const r = await runCell(cell, { timeoutMs: 15_000 });
      expect(r.status, r.detail).toBe('pass');
    });
  }
});

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
