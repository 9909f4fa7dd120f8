/**
 * `netlab interop` as a user runs it (the built bin/netlab in a child process): the quick matrix
 * against the real nngcat and nanocat (JSON shape, every cell passing, the report's third-party
 * columns), usage errors (exit 2), and bad peers played by a fake `nngcat` script on PATH: one
 * that hangs (error "timed out"), crashes (error naming the signal), fails (error naming the
 * status), is missing (skip, or error under NETLAB_REQUIRE_PEERS=1), and one still running when
 * netlab gets SIGINT (it is killed, not orphaned).
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readReportFile } from '../../reports/write.js';
import { buildMatrix } from '../../web/model.js';
import {
  gatePeers,
  peerVersion,
  runPeer,
  startPeer,
  stopAllPeers,
  type PeerResult,
} from '../../scenarios/interop/harness.js';
import { requireBuild } from '../../scenarios/testing/spawn.js';

vi.setConfig({ testTimeout: 60_000 });
afterAll(async () => {
  await stopAllPeers();
});

const NETLAB = new URL('../netlab', import.meta.url).pathname;
const scratch = mkdtempSync(join(tmpdir(), 'netlab-interop-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface JsonCell {
  peer: string;
  protocol: string;
  role: string;
  transport: string;
  faults: string;
  status: string;
  detail: string;
}

async function interop(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<PeerResult> {
  requireBuild();
  return runPeer({ command: process.execPath, args: [NETLAB, 'interop', ...args], env, timeoutMs });
}

const stdoutOf = (r: PeerResult): string => new TextDecoder().decode(r.stdout);

function cellsOf(r: PeerResult): JsonCell[] {
  const json = JSON.parse(stdoutOf(r)) as { cells: JsonCell[] };
  expect(Object.keys(json)).toEqual(['cells']);
  return json.cells;
}

describe('netlab interop --quick against the installed peers', () => {
  it('prints { cells } with every cell passing, both peers, every socket type, and writes the report', async (ctx) => {
    gatePeers(ctx, ['nngcat', 'nanocat']);
    const out = join(scratch, 'quick');
    // --faults all: the quick matrix covers every fault profile there is.
    const r = await interop(['--stack', 'sp', '--quick', '--json', '--faults', 'all', '--out', out]);
    const cells = cellsOf(r);
    for (const c of cells) {
      expect(Object.keys(c).slice(0, 7)).toEqual([
        'peer',
        'protocol',
        'role',
        'transport',
        'faults',
        'status',
        'detail',
      ]);
      expect(c.status, `${c.peer}/${c.protocol}/${c.role}/${c.transport}: ${c.detail}`).toBe('pass');
      expect(c.detail).toMatch(c.peer === 'nng' ? /^nngcat \d+\.\d+/ : /^nanocat \d+\.\d+/);
    }
    expect(r.code).toBe(0);
    expect(new Set(cells.map((c) => c.peer))).toEqual(new Set(['nng', 'nanomsg']));
    expect(new Set(cells.filter((c) => c.peer === 'nng').map((c) => c.protocol)).size).toBe(11);
    expect(new Set(cells.filter((c) => c.peer === 'nanomsg').map((c) => c.protocol)).size).toBe(10);
    expect(new Set(cells.map((c) => c.role))).toEqual(new Set(['listener', 'dialer']));
    expect(new Set(cells.map((c) => c.transport))).toEqual(new Set(['tcp', 'ipc']));

    // The report: schema-valid, real-runtime cases, a column per third-party library and version.
    const report = readReportFile(join(out, 'report.json'));
    expect(report.banner.totals).toMatchObject({ cases: cells.length, pass: cells.length, findings: 0 });
    const cases = report.suites.flatMap((s) => s.cases);
    expect(cases.every((c) => c.runtime === 'real' && c.traceHash === null)).toBe(true);
    // netlab's side of every cell is a trace beside the report, which the viewer opens.
    let withMessages = 0;
    for (const c of cases) {
      expect(c.trace, c.id).toMatch(/^traces\//);
      const text = readFileSync(join(out, c.trace!), 'utf8');
      expect(text.split('\n')[0]).toContain('"schema":"netlab/trace@2"');
      expect(text, c.id).toMatch(/"kind":"(listen|connect)"/);
      if (text.includes('"kind":"msg-')) withMessages++;
    }
    expect(withMessages).toBeGreaterThan(cases.length / 2);
    const nng = await peerVersion('nngcat');
    const nanomsg = await peerVersion('nanocat');
    expect(buildMatrix(report.suites).impls).toEqual([`nanomsg ${nanomsg} (real)`, `nng ${nng} (real)`]);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
  });
});

describe('netlab interop usage errors', () => {
  it.each([
    [['--peer', 'zmq'], /unknown --peer 'zmq'/],
    [['--protocol', 'pair9'], /unknown --protocol 'pair9'/],
    [['--transport', 'inproc'], /unknown --transport 'inproc'/],
    [['--role', 'both'], /unknown --role 'both'/],
    [['--faults', 'gremlins'], /unknown fault profile 'gremlins' \(accepted: all, none/],
    [['--jobs', '0'], /--jobs must be between 1 and/],
    [['--cell-timeout', 'soon'], /--cell-timeout must be a duration/],
    [['--peer', 'nanomsg', '--protocol', 'pair1'], /no cell matches/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('%j exits 2 with a message', async (args, message) => {
    const r = await interop(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('usage: netlab interop');
  });

  it('--stack selects stacks; one without interop cells runs nothing and says so', async () => {
    const r = await interop(['--stack', 'sp', '--list']);
    expect(r.code).toBe(0);
    const bad = await interop(['--stack', 'nosuch']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown stack 'nosuch' \(accepted: all, sp/);
  });

  it('--out DIR holding a report that is not valid: exit 2 before any cell runs', async () => {
    const dir = mkdtempSync(join(scratch, 'bad-report-'));
    writeFileSync(join(dir, 'report.json'), '{"schema":"netlab/report@2"');
    const r = await interop(['--quick', '--out', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds a report netlab cannot merge into \(ERR_BAD_REPORT: .*truncated/);
    expect(stdoutOf(r)).toBe('');
  });

  it('--list prints the selected cells; the full matrix has at least 30', async () => {
    const all = stdoutOf(await interop(['--list']))
      .trim()
      .split('\n');
    expect(all.length).toBeGreaterThanOrEqual(30);
    expect(all).toContain('nng/pair1/dialer/ipc/none');
    expect(all.some((id) => id.startsWith('nanomsg/pair1/'))).toBe(false);
    const some = stdoutOf(
      await interop([
        '--list',
        '--peer',
        'nng',
        '--protocol',
        'reqrep',
        '--transport',
        'tcp',
        '--faults',
        'none',
      ]),
    );
    expect(some.trim().split('\n')).toEqual([
      'nng/req0/listener/tcp/none',
      'nng/req0/dialer/tcp/none',
      'nng/rep0/listener/tcp/none',
      'nng/rep0/dialer/tcp/none',
    ]);
    // By default every fault profile: each cell directly and through the proxy's profiles, except
    // netlab's REP behind a reset (the peer's REQ would resend only after 60 s).
    expect(all).toContain('nng/req0/listener/tcp/reset');
    expect(all).toContain('nanomsg/sub0/dialer/ipc/chaos');
    expect(all.some((id) => id.startsWith('nng/rep0/') && id.endsWith('/reset'))).toBe(false);
    // Every stack's cells: SP's 496, then the reactor's (node and go clients, tcp and ipc, six profiles).
    const reactor = all.filter((id) => id.split('/')[1] === 'echo-reactor');
    expect(all.length - reactor.length).toBe(496);
    expect(reactor).toHaveLength(24);
    expect(reactor).toContain('go/echo-reactor/listener/ipc/chaos');
  });
});

/**
 * A directory holding only a fake `nngcat`: it answers --version like nngcat 1.5.2, appends its pid
 * to $FAKE_PID_FILE, then does what $FAKE_MODE says. With PATH set to it, no real peer is found.
 */
function fakePeerDir(): string {
  const dir = mkdtempSync(join(scratch, 'fake-'));
  const script = [
    '#!/bin/sh',
    'if [ "$1" = "--version" ]; then echo 1.5.2; exit 0; fi',
    'echo $$ >> "$FAKE_PID_FILE"',
    'case "$FAKE_MODE" in',
    '  hang) exec /bin/sleep 30 ;;',
    '  crash) kill -SEGV $$ ;;',
    '  fail) echo "fake nngcat: cannot go on" >&2; exit 3 ;;',
    'esac',
  ].join('\n');
  writeFileSync(join(dir, 'nngcat'), script + '\n');
  chmodSync(join(dir, 'nngcat'), 0o755);
  return dir;
}

const ONE_CELL = [
  '--peer',
  'nng',
  '--protocol',
  'pair0',
  '--role',
  'listener',
  '--transport',
  'tcp',
  '--faults',
  'none',
];

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('netlab interop with a bad peer', () => {
  const run = async (mode: string): Promise<{ r: PeerResult; cell: JsonCell; pids: number[] }> => {
    const dir = fakePeerDir();
    const pidFile = join(dir, 'pids');
    const r = await interop([...ONE_CELL, '--json', '--cell-timeout', '2s'], {
      PATH: dir,
      NETLAB_REQUIRE_PEERS: '0',
      FAKE_MODE: mode,
      FAKE_PID_FILE: pidFile,
    });
    const cells = cellsOf(r);
    expect(cells.length).toBe(1);
    const pids = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim().split('\n').map(Number) : [];
    return { r, cell: cells[0]!, pids };
  };

  it('a peer that hangs: error "timed out after 2s", exit 1, the peer killed', async () => {
    const { r, cell, pids } = await run('hang');
    expect(cell.status).toBe('error');
    expect(cell.detail).toMatch(/^nngcat 1\.5\.2: timed out after 2s while receiving from the peer/);
    expect(r.code).toBe(1);
    expect(pids.length).toBe(1);
    expect(alive(pids[0]!)).toBe(false);
  });

  it('a peer that crashes: error naming the signal, at once rather than at the timeout', async () => {
    const { r, cell } = await run('crash');
    expect(cell).toMatchObject({ status: 'error' });
    expect(cell.detail).toContain('nngcat was killed by SIGSEGV (crashed)');
    expect(r.code).toBe(1);
  });

  it('a peer that exits with a non-zero status: error naming it and its message', async () => {
    const { r, cell } = await run('fail');
    expect(cell.status).toBe('error');
    expect(cell.detail).toContain('nngcat exited with status 3: fake nngcat: cannot go on');
    expect(r.code).toBe(1);
  });

  it('a missing peer: skip with the reason, exit 0; error and exit 1 under NETLAB_REQUIRE_PEERS=1', async () => {
    const empty = mkdtempSync(join(scratch, 'empty-'));
    const skipped = await interop([...ONE_CELL, '--json'], { PATH: empty, NETLAB_REQUIRE_PEERS: '0' });
    const [skip, ...more] = cellsOf(skipped);
    expect(more).toEqual([]);
    expect(skip!.status).toBe('skip');
    expect(skip!.detail).toContain('third-party peer not on PATH: nngcat (apt-get install nng-utils)');
    expect(skipped.code).toBe(0);
    const required = await interop([...ONE_CELL, '--json'], { PATH: empty, NETLAB_REQUIRE_PEERS: '1' });
    expect(cellsOf(required)[0]).toMatchObject({ status: 'error' });
    expect(cellsOf(required)[0]!.detail).toContain('NETLAB_REQUIRE_PEERS=1 and third-party peer not on PATH');
    expect(required.code).toBe(1);
  });

  it('SIGINT while a peer runs: netlab ends and the peer is killed, not orphaned', async () => {
    requireBuild();
    const dir = fakePeerDir();
    const pidFile = join(dir, 'pids');
    const netlab = startPeer({
      command: process.execPath,
      args: [NETLAB, 'interop', ...ONE_CELL, '--cell-timeout', '60s'],
      env: { PATH: dir, NETLAB_REQUIRE_PEERS: '0', FAKE_MODE: 'hang', FAKE_PID_FILE: pidFile },
      timeoutMs: 30_000,
    });
    const startMs = performance.now();
    while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8').trim() === '') {
      if (performance.now() - startMs > 10_000) throw new Error('the fake peer never started');
      await new Promise((res) => setTimeout(res, 20));
    }
    const peerPid = Number(readFileSync(pidFile, 'utf8').trim());
    expect(alive(peerPid)).toBe(true);
    process.kill(netlab.pid!, 'SIGINT');
    const r = await netlab.done;
    expect(r.timedOut).toBe(false);
    expect(r.signal).toBe('SIGINT');
    // Killed by the harness's SIGINT hook; give init a moment to reap it.
    for (let i = 0; i < 100 && alive(peerPid); i++) await new Promise((res) => setTimeout(res, 20));
    expect(alive(peerPid)).toBe(false);
  });
});
