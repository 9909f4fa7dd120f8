/** Checks the peer harness with ordinary children (sleep, cat, sh, node) and, if present, nngcat. */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import {
  findPeer,
  freeTcpPort,
  gatePeers,
  killAllPeersNow,
  peerAvailability,
  peerVersion,
  requirePeers,
  runPeer,
  runningPeerCount,
  startPeer,
  stopAllPeers,
  tempIpcPath,
} from './harness.js';

const NODE = process.execPath;
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** A process counts as gone once it no longer exists or is a zombie nobody has reaped yet. */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitGone(pid: number, timeoutMs = 2000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (isRunning(pid)) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

afterAll(() => stopAllPeers());

describe('runPeer', () => {
  it('captures exit code, binary stdout and stderr', async () => {
    const result = await runPeer({
      command: NODE,
      args: [
        '-e',
        'process.stdout.write(Buffer.from([0, 255, 10])); process.stderr.write("oops"); process.exit(3)',
      ],
      timeoutMs: 5000,
    });
    expect(result).toMatchObject({
      code: 3,
      signal: null,
      stderr: 'oops',
      timedOut: false,
      spawnError: null,
    });
    expect([...result.stdout]).toEqual([0, 255, 10]);
  });

  it('feeds stdin (bytes or text) and closes it; without stdin the child reads EOF', async () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const echoed = await runPeer({ command: 'cat', args: [], stdin: bytes, timeoutMs: 5000 });
    expect(Buffer.from(echoed.stdout).equals(bytes)).toBe(true);
    expect(text((await runPeer({ command: 'cat', args: [], stdin: 'héllo', timeoutMs: 5000 })).stdout)).toBe(
      'héllo',
    );
    const empty = await runPeer({ command: 'cat', args: [], timeoutMs: 5000 });
    expect(empty.code).toBe(0);
    expect(empty.stdout).toHaveLength(0);
  });

  it('passes extra environment variables on top of the parent environment', async () => {
    const result = await runPeer({
      command: 'sh',
      args: ['-c', 'printf "%s %s" "$NETLAB_HARNESS_X" "${PATH:+has-path}"'],
      env: { NETLAB_HARNESS_X: 'x1' },
      timeoutMs: 5000,
    });
    expect(text(result.stdout)).toBe('x1 has-path');
  });

  it('kills a child that outlives timeoutMs (SIGTERM first)', async () => {
    const result = await runPeer({ command: 'sleep', args: ['30'], timeoutMs: 300, graceMs: 100 });
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe('SIGTERM');
    expect(result.durationMs).toBeGreaterThanOrEqual(150);
    expect(result.durationMs).toBeLessThan(2000);
  });

  it('SIGKILLs a child that ignores SIGTERM once the grace period is over', async () => {
    // An ignored signal stays ignored across exec, so neither sh nor its sleep reacts to SIGTERM.
    const ignoreTerm = ['-c', 'trap "" TERM; echo ready; sleep 30'];
    const result = await runPeer({ command: 'sh', args: ignoreTerm, timeoutMs: 400, graceMs: 200 });
    expect(result).toMatchObject({ timedOut: true, signal: 'SIGKILL', code: null });
    expect(result.durationMs).toBeLessThan(2000);

    const peer = startPeer({ command: 'sh', args: ignoreTerm, timeoutMs: 10_000 });
    await peer.waitForOutput(/ready/, 5000);
    const stopped = await peer.stop(100);
    expect(stopped).toMatchObject({ timedOut: false, signal: 'SIGKILL' });
  });

  it('bounds captured output and marks the truncation', async () => {
    const result = await runPeer({
      command: NODE,
      args: ['-e', 'process.stdout.write("a".repeat(100000)); process.stderr.write("b".repeat(5000))'],
      timeoutMs: 5000,
      maxCaptureBytes: 1024,
    });
    expect(result.code).toBe(0);
    expect(result.truncated).toBe(true);
    const out = text(result.stdout);
    expect(out.startsWith('a'.repeat(1024) + '\n[netlab harness: output truncated after 1024 bytes]')).toBe(
      true,
    );
    expect(result.stderr).toMatch(/^b{1024}\n\[netlab harness: output truncated/);
  });

  it('reports a command that cannot start instead of throwing', async () => {
    const result = await runPeer({ command: 'netlab-no-such-command-x', args: [], timeoutMs: 2000 });
    expect(result.code).toBeNull();
    expect(result.spawnError).toMatch(/ENOENT/);
  });

  it('does not hang when a grandchild keeps the output pipes open, and kills it', async () => {
    const result = await runPeer({ command: 'sh', args: ['-c', 'sleep 30 & echo $!'], timeoutMs: 5000 });
    expect(result.code).toBe(0);
    expect(result.durationMs).toBeLessThan(2000);
    expect(await waitGone(Number(text(result.stdout).trim()))).toBe(true);
  });
});

describe('startPeer', () => {
  it('waits for output, then stop() ends the child with SIGTERM', async () => {
    const peer = startPeer({
      command: NODE,
      args: ['-e', 'console.log("listening on 1234"); setInterval(() => {}, 1000)'],
      timeoutMs: 10_000,
    });
    expect(peer.pid).toBeGreaterThan(0);
    const seen = await peer.waitForOutput((o) => o.stdout.includes('listening'), 5000);
    expect(seen.stdout).toMatch(/listening on 1234/);
    const result = await peer.stop();
    expect(result).toMatchObject({ signal: 'SIGTERM', timedOut: false });
    expect(peer.exited).toBe(true);
  });

  it('waitForOutput rejects on timeout and when the child exits without a match', async () => {
    const quiet = startPeer({ command: 'sleep', args: ['30'], timeoutMs: 10_000 });
    await expect(quiet.waitForOutput(/never/, 100)).rejects.toThrow(/within 100 ms/);
    await quiet.stop();
    const brief = startPeer({ command: 'sh', args: ['-c', 'echo bye >&2'], timeoutMs: 5000 });
    await expect(brief.waitForOutput(/hello/, 5000)).rejects.toThrow(/exited.*\n.*\nstderr: bye/);
    expect(await brief.waitForOutput(/bye/, 10)).toMatchObject({ stderr: 'bye\n' });
  });

  it('stop() also kills what the child forked (its whole process group)', async () => {
    const peer = startPeer({ command: 'sh', args: ['-c', 'sleep 30 & echo $!; wait'], timeoutMs: 10_000 });
    const { stdout } = await peer.waitForOutput(/^\d+\n/, 5000);
    await peer.stop();
    expect(await waitGone(Number(stdout.trim()))).toBe(true);
  });
});

describe('registry', () => {
  it('stopAllPeers() stops every running peer', async () => {
    const before = runningPeerCount();
    const peers = [1, 2].map(() => startPeer({ command: 'sleep', args: ['30'], timeoutMs: 10_000 }));
    expect(runningPeerCount()).toBe(before + 2);
    const results = await stopAllPeers();
    expect(results.length).toBeGreaterThanOrEqual(2);
    expect(runningPeerCount()).toBe(0);
    for (const peer of peers) expect(await waitGone(peer.pid!)).toBe(true);
  });

  it('killAllPeersNow() (the exit hook) SIGKILLs synchronously', async () => {
    const peer = startPeer({ command: 'sleep', args: ['30'], timeoutMs: 10_000 });
    killAllPeersNow();
    expect((await peer.done).signal).toBe('SIGKILL');
  });

  it('a process that exits or is SIGTERMed takes its peers with it', async () => {
    // Run the harness in a separate Node process: transpile it to plain JS (it imports only node:*).
    const dir = mkdtempSync(join(tmpdir(), 'netlab-harness-'));
    try {
      const source = readFileSync(new URL('./harness.ts', import.meta.url), 'utf8');
      const js = ts.transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      }).outputText;
      const modulePath = join(dir, 'harness.mjs');
      writeFileSync(modulePath, js);
      const script = [
        `import { startPeer } from ${JSON.stringify(modulePath)};`,
        `const peer = startPeer({ command: 'sleep', args: ['30'], timeoutMs: 20000 });`,
        `console.log('peer ' + peer.pid);`,
        `if (process.env.MODE === 'exit') setTimeout(() => process.exit(0), 50);`,
        `else setInterval(() => {}, 1000);`,
      ].join('\n');
      const spawnParent = (mode: string) =>
        startPeer({
          command: NODE,
          args: ['--input-type=module', '-e', script],
          env: { MODE: mode },
          timeoutMs: 10_000,
        });

      const exiting = spawnParent('exit');
      const exitPid = Number(/peer (\d+)/.exec((await exiting.waitForOutput(/peer \d+/, 5000)).stdout)![1]);
      expect((await exiting.done).code).toBe(0);
      expect(await waitGone(exitPid)).toBe(true);

      const terminated = spawnParent('wait');
      const termPid = Number(
        /peer (\d+)/.exec((await terminated.waitForOutput(/peer \d+/, 5000)).stdout)![1],
      );
      expect(isRunning(termPid)).toBe(true);
      expect((await terminated.stop()).signal).toBe('SIGTERM');
      expect(await waitGone(termPid)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('helpers', () => {
  it('freeTcpPort() returns a loopback port that can be bound', async () => {
    const port = await freeTcpPort();
    expect(port).toBeGreaterThan(0);
    expect(port).toBeLessThan(65_536);
    const server = createServer();
    await new Promise<void>((res, rej) => server.once('error', rej).listen(port, '127.0.0.1', res));
    await new Promise((res) => server.close(res));
  });

  it('tempIpcPath() is unique, short enough for a unix socket, and removed by stopAllPeers()', async () => {
    const a = tempIpcPath('a b/c');
    const b = tempIpcPath('a b/c');
    expect(a).not.toBe(b);
    expect(a.startsWith(tmpdir()) || a.startsWith('/tmp/')).toBe(true);
    expect(Buffer.byteLength(a)).toBeLessThanOrEqual(100);
    expect(a).toMatch(/a_b_c\.ipc$/);
    writeFileSync(a, '');
    await stopAllPeers();
    expect(existsSync(a)).toBe(false);
  });

  it('findPeer() searches PATH without a shell', () => {
    expect(findPeer('sh')).toMatch(/\/sh$/);
    expect(findPeer('netlab-no-such-command-x')).toBeNull();
    expect(findPeer(NODE)).toBe(NODE);
    expect(findPeer('/netlab/no/such/file')).toBeNull();
  });

  it('peerAvailability() and requirePeers()', () => {
    expect(peerAvailability(['sh'])).toMatchObject({ available: true });
    const missing = peerAvailability(['sh', 'netlab-no-such-command-x']);
    expect(missing.available).toBe(false);
    expect(missing.reason).toMatch(/netlab-no-such-command-x/);
    const savedPath = process.env.PATH;
    try {
      process.env.PATH = '';
      expect(peerAvailability(['nngcat', 'nanocat']).reason).toMatch(
        /apt-get install nng-utils nanomsg-utils/,
      );
    } finally {
      process.env.PATH = savedPath;
    }
    expect(requirePeers()).toBe(process.env.NETLAB_REQUIRE_PEERS === '1');
  });

  it('gatePeers() skips, or fails under NETLAB_REQUIRE_PEERS=1, when a peer is missing', () => {
    const notes: (string | undefined)[] = [];
    const ctx = { skip: (note?: string) => void notes.push(note) };
    gatePeers(ctx, ['sh']);
    expect(notes).toEqual([]);
    const saved = process.env.NETLAB_REQUIRE_PEERS;
    try {
      process.env.NETLAB_REQUIRE_PEERS = '1';
      expect(() => gatePeers(ctx, ['netlab-no-such-command-x'])).toThrow(/NETLAB_REQUIRE_PEERS=1/);
      delete process.env.NETLAB_REQUIRE_PEERS;
      gatePeers(ctx, ['netlab-no-such-command-x']);
      expect(notes).toHaveLength(1);
      expect(notes[0]).toMatch(/netlab-no-such-command-x/);
    } finally {
      if (saved === undefined) delete process.env.NETLAB_REQUIRE_PEERS;
      else process.env.NETLAB_REQUIRE_PEERS = saved;
    }
  });

  it('peerVersion("nngcat", ["--version"]) reads what nngcat prints for --version', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    expect(await peerVersion('nngcat', ['--version'])).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('peerVersion falls back to the Debian package when the version flag prints no version', async (ctx) => {
    gatePeers(ctx, ['nngcat']);
    // nngcat --help prints no version number: the package's version is taken instead.
    expect(await peerVersion('nngcat', ['--no-such-flag-x'])).toBe(await peerVersion('nngcat'));
  });

  it('peerVersion("nanocat") finds a version although nanocat has no --version', async (ctx) => {
    gatePeers(ctx, ['nanocat']);
    expect(await peerVersion('nanocat')).toMatch(/^\d+\.\d+\.\d+$|^unknown$/);
  });
});
