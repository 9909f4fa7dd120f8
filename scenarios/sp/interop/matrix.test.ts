/**
 * The interop matrix without peers: which cells a selection holds (full, quick, filtered), the
 * `--faults` parser, and interop cells as report cases (a report of their own, or merged into an
 * existing one). The cells themselves run in the *.interop.test.ts files and bin/commands/interop.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parseReport, type CaseInput } from '../../../reports/schema.js';
import { sampleReport } from '../../../reports/testing/fixtures.js';
import { buildMatrix, rowKey } from '../../../web/model.js';
import { FAULT_PROFILES, FaultsFlagError, parseFaultsFlag } from '../../interop/faults.js';
import { cellId } from '../../interop/matrix.js';
import { interopReport, mergeInteropInto, type InteropRunInfo } from '../../interop/report.js';
import { matrixCells, type Cell, type CellResult } from './matrix.js';
import { cellCase } from './report.js';

describe('matrixCells', () => {
  it('holds every socket type each peer has, both roles and both transports: 84 cells', () => {
    const cells = matrixCells({ faults: parseFaultsFlag('none') });
    expect(cells.length).toBe(84);
    expect(new Set(cells.map(cellId)).size).toBe(84);
    const nng = cells.filter((c) => c.peer === 'nng');
    const nanomsg = cells.filter((c) => c.peer === 'nanomsg');
    expect(nng.length).toBe(11 * 2 * 2);
    expect(nanomsg.length).toBe(10 * 2 * 2);
    expect(nanomsg.some((c) => c.protocol === 'pair1')).toBe(false);
  });

  it('filters by peer, protocol, role and transport', () => {
    const cells = matrixCells({
      peers: ['nanomsg'],
      protocols: ['req0', 'sub0'],
      roles: ['dialer'],
      transports: ['ipc'],
      faults: parseFaultsFlag('none,stall'),
    });
    expect(cells.map(cellId)).toEqual([
      'nanomsg/req0/dialer/ipc/none',
      'nanomsg/req0/dialer/ipc/stall',
      'nanomsg/sub0/dialer/ipc/none',
      'nanomsg/sub0/dialer/ipc/stall',
    ]);
    expect(matrixCells({ peers: ['nanomsg'], protocols: ['pair1'] })).toEqual([]);
  });

  it('--quick: one cell per peer and socket type, both roles and transports covered, the same cell for both peers', () => {
    const quick = matrixCells({ quick: true, faults: parseFaultsFlag('none') });
    expect(quick.length).toBe(21);
    expect(new Set(quick.map((c) => `${c.peer}/${c.protocol}`)).size).toBe(21);
    expect(new Set(quick.map((c) => c.role))).toEqual(new Set(['listener', 'dialer']));
    expect(new Set(quick.map((c) => c.transport))).toEqual(new Set(['tcp', 'ipc']));
    const shape = (peer: Cell['peer']) =>
      quick
        .filter((c) => c.peer === peer && c.protocol !== 'pair1')
        .map((c) => `${c.protocol}/${c.role}/${c.transport}`);
    expect(shape('nanomsg')).toEqual(shape('nng'));
    // A restricted selection stays restricted.
    expect(matrixCells({ quick: true, roles: ['dialer'] }).every((c) => c.role === 'dialer')).toBe(true);
  });
});

describe('parseFaultsFlag', () => {
  it('accepts all (the default), none, lists; refuses unknown names naming the accepted ones', () => {
    expect(parseFaultsFlag(undefined)).toEqual(FAULT_PROFILES);
    expect(FAULT_PROFILES.map((p) => p.name)).toEqual([
      'none',
      'latency',
      'slicing',
      'stall',
      'reset',
      'chaos',
    ]);
    expect(parseFaultsFlag('none,none').map((p) => p.name)).toEqual(['none']);
    expect(parseFaultsFlag('all')).toEqual(FAULT_PROFILES);
    expect(() => parseFaultsFlag('gremlins')).toThrow(FaultsFlagError);
    expect(() => parseFaultsFlag('gremlins')).toThrow(/accepted: all, none/);
    expect(() => parseFaultsFlag(',')).toThrow(/needs a profile name/);
  });

  it('none connects the dialer straight to the listener', async () => {
    const wrapped = await parseFaultsFlag('none')[0]!.wrap(
      { id: 'x', transport: 'tcp' },
      'tcp://127.0.0.1:1',
      's',
    );
    expect(wrapped.dialUrl).toBe('tcp://127.0.0.1:1');
    expect(wrapped.log()).toEqual([]);
    await wrapped.close();
  });
});

/** The report case of a made-up SP cell result. */
const result = (cell: Partial<Cell>, over: Partial<CellResult> = {}): CaseInput => {
  const c: Cell = {
    peer: 'nng',
    protocol: 'req0',
    role: 'dialer',
    transport: 'tcp',
    faults: 'none',
    ...cell,
  };
  return cellCase(
    {
      ...c,
      id: cellId(c),
      status: 'pass',
      detail: 'nngcat 1.5.2: fine',
      peerVersion: c.peer === 'nng' ? '1.5.2' : '1.1.5',
      durationMs: 12,
      trace: [],
      ...over,
    },
    INFO.seed,
  );
};

const INFO: InteropRunInfo = {
  seed: 'seed-1',
  knobs: { peers: 'nng,nanomsg', quick: true },
  netlabVersion: '0.1.0',
  commit: 'unknown',
  startedAt: '2026-01-01T00:00:00.000Z',
  wallMs: 1234,
};

describe('interop cells as report cases', () => {
  it('a report of their own: real-runtime cases, one column per library and version, one row per check', () => {
    const report = interopReport(
      [
        result({ peer: 'nng' }),
        result({ peer: 'nanomsg' }),
        result(
          { peer: 'nanomsg', protocol: 'rep0', role: 'listener' },
          { status: 'skip', peerVersion: null },
        ),
        result({ peer: 'nng', protocol: 'rep0', role: 'listener' }, { status: 'error', detail: 'timed out' }),
      ],
      INFO,
    );
    expect(parseReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report.banner.totals).toMatchObject({ cases: 4, pass: 2, error: 1, skip: 1, findings: 1 });
    const cases = report.suites[0]!.cases;
    expect(cases[0]).toMatchObject({
      id: 'interop/req0/nng 1.5.2/dialer/tcp',
      impl: 'nng 1.5.2',
      peer: 'nngcat',
      runtime: 'real',
      role: 'rep0 listener',
      invariant: 'interop.req0.one-reply',
      actual: 'nngcat 1.5.2: fine',
      runs: 1,
      replay:
        'netlab interop --peer nng --protocol req0 --role dialer --transport tcp --faults none --seed "seed-1"',
    });
    // A peer whose version is unknown (not installed) keeps the bare library name; a skip ran 0 times.
    expect(cases[2]).toMatchObject({ impl: 'nanomsg', runs: 0 });
    expect(rowKey(cases[0]!)).toBe('interop/req0/dialer/tcp');
    const matrix = buildMatrix(report.suites);
    expect(matrix.impls).toEqual(['nanomsg (real)', 'nanomsg 1.1.5 (real)', 'nng 1.5.2 (real)']);
    expect(matrix.groups.map((g) => g.label)).toEqual(['interop · req0', 'interop · rep0']);
    expect(matrix.groups[0]!.rows.length).toBe(1);
  });

  it('merged into an existing report: its suites and banner kept, the interop suite replaced, totals recomputed', () => {
    const base = sampleReport();
    const once = mergeInteropInto(base, [result({}), result({ peer: 'nanomsg' })], INFO);
    expect(once.suites.map((s) => s.name)).toEqual([...base.suites.map((s) => s.name), 'interop']);
    expect(once.banner.totals.cases).toBe(base.banner.totals.cases + 2);
    expect(once.banner.simSeed).toBe(base.banner.simSeed);
    expect(once.banner.knobs).toMatchObject({ 'interop.peers': 'nng,nanomsg', 'interop.quick': true });
    const twice = mergeInteropInto(once, [result({}, { status: 'fail', detail: 'wrong reply' })], INFO);
    expect(twice.suites.filter((s) => s.name === 'interop').length).toBe(1);
    expect(twice.banner.totals.cases).toBe(base.banner.totals.cases + 1);
    expect(twice.banner.totals.fail).toBe(base.banner.totals.fail + 1);
  });
});
