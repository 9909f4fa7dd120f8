/**
 * Museum outcomes of `netlab run --impl all` and `netlab merge`, in this process, with planted
 * variants registered here (the real museum lives in scenarios/sp/museum/ and is tested there).
 * --workers 1 throughout: worker threads load the built registry, which lacks these plants.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameDecoder } from '../../impl/sp/wire/frames.js';
import { parseReport, type Report } from '../../reports/schema.js';
import { FRAMING } from '../../scenarios/sp/families/framing.js';
import { registerImpl } from '../../scenarios/sp/run.js';
import { UsageError } from './common.js';
import { mergeCommand } from './merge.js';
import { parseShard, runCommand, shardItems } from './run.js';

/** Payloads of this many bytes or more get their last byte flipped by the planted decoder. */
const CORRUPT_FROM_BYTES = 5;

registerImpl('museum/test-planted', {
  summary: 'planted: the frame decoder flips the last byte of every payload of 5 bytes or more',
  family: 'framing',
  socket: () => ({
    socketOptions: {
      frameDecoder: (options) => {
        const real = new FrameDecoder(options);
        return {
          feed: (chunk, onFrame) =>
            real.feed(chunk, (payload) => {
              if (payload.length < CORRUPT_FROM_BYTES) return onFrame(payload);
              const copy = payload.slice();
              copy[copy.length - 1] = copy[copy.length - 1]! ^ 0xff;
              onFrame(copy);
            }),
        };
      },
    },
  }),
});

let out: string[] = [];
beforeEach(() => {
  out = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

const RUN = ['--suite', 'framing', '--runs', '20', '--seed', '7', '--workers', '1'];
/**
 * Tests that run the whole museum against the framing family, in this thread, up to three times:
 * about 15 s a run on an idle 2-core machine, several times that when the suite's other files share
 * the cores.
 */
const HEAVY_TIMEOUT_MS = 240_000;

interface Run {
  code: number;
  report: Report;
  stdout: string;
  dir: string;
}

async function run(...args: string[]): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-museum-'));
  out = [];
  const code = await runCommand.run([...RUN, ...args, '--out', dir]);
  const report = parseReport(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')));
  return { code, report, stdout: out.join(''), dir };
}

async function merge(...runs: Run[]): Promise<{ code: number; report: Report; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-merged-'));
  const code = await mergeCommand.run([...runs.map((r) => r.dir), '--out', dir]);
  return { code, report: parseReport(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))), dir };
}

function outcome(r: Report): string[] {
  return r.suites
    .flatMap((s) => s.cases)
    .map((c) => `${c.id} ${c.status} ${c.expect} ${c.traceHash}`)
    .sort();
}

const verdictOf = (r: Report, impl: string): string | undefined =>
  r.banner.museum.find((e) => e.impl === impl)?.verdict;

describe('--shard', () => {
  it('accepts i/n with 1 <= i <= n and rejects the rest, naming what is accepted', () => {
    expect(parseShard(undefined)).toEqual({ index: 1, count: 1 });
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/2', '3/2', 'x', '1/0', '1/', '/2', '-1/2', '1.5/2'])
      expect(() => parseShard(bad), bad).toThrow(UsageError);
    expect(() => parseShard('3/2')).toThrow(
      "--shard must be i/n with 1 <= i <= n <= 10000 (e.g. 1/4 ... 4/4), got '3/2'",
    );
  });

  it('slices deterministically: every item in exactly one shard, balanced', () => {
    const items = Array.from({ length: 11 }, (_, k) => k);
    const shards = [1, 2, 3].map((index) => shardItems(items, { index, count: 3 }));
    expect(shards).toEqual([
      [0, 3, 6, 9],
      [1, 4, 7, 10],
      [2, 5, 8],
    ]);
  });
});

describe('--impl all: museum variants are expected to fail', () => {
  it(
    'a caught variant is not a finding: exit 0, verdict caught, its cases expect fail',
    async () => {
      const { code, report, stdout } = await run('--impl', 'all');
      expect(code, stdout).toBe(0);
      const entry = report.banner.museum.find((e) => e.impl === 'museum/test-planted');
      expect(entry).toMatchObject({
        family: 'framing',
        verdict: 'caught',
        propertiesTotal: FRAMING.properties.length,
      });
      const planted = report.suites.flatMap((s) => s.cases).filter((c) => c.impl === 'museum/test-planted');
      expect(planted.every((c) => c.expect === 'fail')).toBe(true);
      expect(planted.some((c) => c.status === 'fail')).toBe(true);
      expect(report.banner.totals).toMatchObject({
        findings: 0,
        caught: report.banner.museum.filter((e) => e.verdict === 'caught').length,
        missed: 0,
      });
      expect(report.banner.totals.fail).toBeGreaterThan(0);
      expect(stdout).toMatch(/museum\/test-planted {2}caught by framing \(\d+ of \d+ properties failed\)/);
      expect(stdout).toMatch(/XFAIL framing\/\w+\/museum\/test-planted\//);
      expect(stdout).toMatch(/took \d+\.\d s: \d+ scenario runs, [\d.]+ per second/);
      expect(report.banner.scenarioRuns).toBeGreaterThanOrEqual(4 * 20);
    },
    HEAVY_TIMEOUT_MS,
  );

  it('alone, a variant keeps plain exit codes: its failures exit 1', async () => {
    const { code, report } = await run('--impl', 'museum/test-planted');
    expect(code).toBe(1);
    expect(report.banner.museum).toEqual([]);
    expect(report.banner.totals.findings).toBeGreaterThan(0);
  });

  it(
    'shards merged give the unsharded verdict and cases',
    async () => {
      const whole = await run('--impl', 'all');
      const a = await run('--impl', 'all', '--shard', '1/2');
      const b = await run('--impl', 'all', '--shard', '2/2');
      expect(a.report.banner.knobs.shard).toBe('1/2');
      const { code, report, dir } = await merge(a, b);
      expect(code).toBe(whole.code);
      // Failing cases replay from the merged copy of their case file.
      const failing = report.suites.flatMap((s) => s.cases).filter((c) => c.status === 'fail');
      expect(failing.length).toBeGreaterThan(0);
      for (const c of failing) {
        const file = /^netlab replay (\S+)$/.exec(c.replay)?.[1];
        expect(file?.startsWith(join(dir, 'cases')), c.replay).toBe(true);
        expect(existsSync(file!), file).toBe(true);
      }
      expect(outcome(report)).toEqual(outcome(whole.report));
      expect(report.banner.museum.map((e) => [e.impl, e.verdict])).toEqual(
        whole.report.banner.museum.map((e) => [e.impl, e.verdict]),
      );
      expect(report.banner.knobs).not.toHaveProperty('shard');
    },
    HEAVY_TIMEOUT_MS,
  );

  it(
    'a variant its family misses is a finding: exit 1, verdict missed, MISSED in the table',
    async () => {
      registerImpl('museum/test-harmless', {
        summary: 'planted: nothing changed, so nothing can catch it',
        family: 'framing',
      });
      const { code, report, stdout } = await run('--impl', 'all');
      expect(code).toBe(1);
      expect(verdictOf(report, 'museum/test-harmless')).toBe('missed');
      expect(report.banner.totals).toMatchObject({
        findings: 1,
        caught: report.banner.museum.filter((e) => e.verdict === 'caught').length,
        missed: 1,
      });
      expect(stdout).toContain(
        `museum/test-harmless  MISSED by framing (0 of ${FRAMING.properties.length} properties failed)`,
      );
      // Sharded, each shard runs one of its two properties: neither can judge it (not a finding
      // there); the merge can, and says missed, as the unsharded run did.
      const shards = [
        await run('--impl', 'all', '--shard', '1/2'),
        await run('--impl', 'all', '--shard', '2/2'),
      ];
      for (const s of shards) {
        expect(verdictOf(s.report, 'museum/test-harmless')).toBe('not-judged');
        expect(s.stdout).toMatch(
          /museum\/test-harmless {2}not judged: \d+ of \d+ framing properties ran here/,
        );
      }
      const merged = await merge(...shards);
      expect(merged.code).toBe(1);
      expect(verdictOf(merged.report, 'museum/test-harmless')).toBe('missed');
    },
    HEAVY_TIMEOUT_MS,
  );
});
