/** `netlab fuzz` as a user runs it: exit codes, --json, corpus and crasher files, --replay. */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { netlab, requireBuild } from '../../scenarios/testing/spawn.js';
import { UsageError } from './common.js';
import { parseDuration } from './fuzz.js';

beforeAll(requireBuild);

interface FuzzJson {
  execs: number;
  execsPerSec: number;
  corpusSize: number;
  newCorpusInputs: number;
  crashers: { oracle: string; file: string; replay: string }[];
  skippedFiles: string[];
}

describe('netlab fuzz', () => {
  it('parses --time durations and rejects the rest', () => {
    expect(parseDuration('60s')).toBe(60_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1500ms')).toBe(1500);
    expect(parseDuration('2')).toBe(2000);
    for (const bad of ['', 's', '-1s', '0s', '1d', '10 parsecs'])
      expect(() => parseDuration(bad), bad).toThrow(UsageError);
  });

  it('an unknown target is a usage error (exit 2) naming the known ones; so is --impl on a target without one', async () => {
    const r = await netlab('fuzz', 'sp-nope', '--runs', '10');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /unknown target 'sp-nope'; known targets: sp-frame, sp-handshake, sp-ipc-frame, sp-stream/,
    );
    const impl = await netlab('fuzz', 'sp-handshake', '--impl', 'museum/lossy-length', '--runs', '10');
    expect(impl.code).toBe(2);
    expect((await netlab('fuzz', 'sp-frame', '--impl', 'museum/nope', '--runs', '10')).code).toBe(2);
  });

  it('--json prints execs, execsPerSec, crashers and corpusSize; a corrupt corpus file is reported and skipped', async () => {
    const corpus = mkdtempSync(join(tmpdir(), 'netlab-fuzz-corpus-'));
    writeFileSync(
      join(corpus, 'broken.json'),
      '{"format": "netlab-fuzz-input@1", "target": "sp-frame", "knob": 0, "hex": "zz", "cuts": []}',
    );
    writeFileSync(join(corpus, 'not-json.json'), 'hello');
    const r = await netlab(
      'fuzz',
      'sp-frame',
      '--runs',
      '3000',
      '--seed',
      'cli',
      '--corpus',
      corpus,
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as FuzzJson;
    expect(j.execs).toBe(3000);
    expect(j.execsPerSec).toBeGreaterThan(0);
    expect(j.crashers).toEqual([]);
    expect(j.corpusSize).toBeGreaterThan(0);
    expect(j.skippedFiles).toHaveLength(2);
    expect(r.stderr).toMatch(/skipped corpus file: .*broken\.json: field hex/);
    expect(r.stderr).toMatch(/skipped corpus file: .*not-json\.json: not JSON/);
    // Inputs that reached new coverage were written back, and load again next time.
    expect(j.newCorpusInputs).toBeGreaterThan(0);
    expect(readdirSync(corpus).length).toBe(2 + j.newCorpusInputs);
    const again = await netlab('fuzz', 'sp-frame', '--runs', '100', '--corpus', corpus, '--json');
    expect(again.code).toBe(0);
  });

  it('a museum codec variant exits 1 with a minimized crasher file whose replay line reproduces it', async () => {
    const out = mkdtempSync(join(tmpdir(), 'netlab-fuzz-out-'));
    const r = await netlab(
      'fuzz',
      'sp-frame',
      '--impl',
      'museum/alloc-before-check',
      '--runs',
      '100000',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/CRASHER alloc-over-limit/);
    const files = readdirSync(join(out, 'crashers'));
    expect(files).toHaveLength(1);
    const file = join(out, 'crashers', files[0]!);
    expect(existsSync(file)).toBe(true);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { impl: string; replay: string; hex: string };
    expect(saved.impl).toBe('museum/alloc-before-check');
    expect(saved.replay).toBe(`netlab fuzz sp-frame --impl museum/alloc-before-check --replay ${file}`);
    expect(r.stdout).toContain(`replay: ${saved.replay}`);
    // The replay line, as printed: the variant fails again (exit 1); netlab passes the same input.
    const replay = await netlab(...saved.replay.split(' ').slice(1));
    expect(replay.code).toBe(1);
    expect(replay.stdout).toMatch(/FAIL .*alloc-over-limit/s);
    const onNetlab = await netlab('fuzz', 'sp-frame', '--impl', 'netlab', '--replay', file);
    expect(onNetlab.code).toBe(0);
    expect(onNetlab.stdout).toMatch(/PASS/);
  });
});
