/**
 * Peer programs built on demand and cached by the hash of their source (scenarios/interop/build.ts),
 * with a std-only Go fixture. Without Go the tests skip, or fail under NETLAB_REQUIRE_PEERS=1 (CI,
 * whose .ci/run installs golang-go).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPeer, PeerBuildError, sourceHash } from './build.js';
import { gatePeers } from './harness.js';

const FIXTURE = new URL('./testdata/hello-peer', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'netlab-peer-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('buildPeer', () => {
  it('builds once, then takes the cached executable; a source change builds anew', async (ctx) => {
    gatePeers(ctx, ['go']);
    const cacheDir = join(dir, 'cache');
    const program = { name: 'hello-peer', toolchain: 'go' as const, sourceDir: FIXTURE };
    const first = await buildPeer(program, { cacheDir });
    expect(first.status).toBe('built');
    if (first.status === 'unavailable') return;
    expect(execFileSync(first.path, ['a', 'b'], { encoding: 'utf8' })).toBe('hello-peer a b\n');
    const again = await buildPeer(program, { cacheDir });
    expect(again).toEqual({ ...first, status: 'cached' });

    const changed = join(dir, 'changed');
    cpSync(FIXTURE, changed, { recursive: true });
    writeFileSync(join(changed, 'extra.go'), 'package main\n\nconst extra = 1\n');
    const other = await buildPeer({ ...program, sourceDir: changed }, { cacheDir });
    expect(other.status).toBe('built');
    if (other.status === 'unavailable') return;
    expect(other.hash).not.toBe(first.hash);
    expect(other.path).not.toBe(first.path);
  }, 120_000);

  it('a source that does not compile is a PeerBuildError with the compiler output', async (ctx) => {
    gatePeers(ctx, ['go']);
    const broken = join(dir, 'broken');
    cpSync(FIXTURE, broken, { recursive: true });
    writeFileSync(join(broken, 'bad.go'), 'package main\n\nfunc broken() { undefinedThing() }\n');
    const e = await buildPeer(
      { name: 'broken-peer', toolchain: 'go', sourceDir: broken },
      { cacheDir: join(dir, 'c2') },
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PeerBuildError);
    expect((e as PeerBuildError).message).toMatch(/undefinedThing|undefined: /);
  }, 120_000);

  it('a missing toolchain is unavailable, not an error; bad names are refused', async () => {
    const program = { name: 'hello-peer', toolchain: 'go' as const, sourceDir: FIXTURE };
    expect(await buildPeer(program, { go: join(dir, 'no-such-go'), cacheDir: dir })).toEqual({
      status: 'unavailable',
      reason: `the Go toolchain (${join(dir, 'no-such-go')}) is not installed`,
    });
    await expect(buildPeer({ ...program, name: '../evil' }, { cacheDir: dir })).rejects.toThrow(
      PeerBuildError,
    );
  });

  it('hashes the toolchain version and every file, in a stable order', () => {
    const a = sourceHash(FIXTURE, 'go version go1.19.8 linux/amd64');
    expect(sourceHash(FIXTURE, 'go version go1.19.8 linux/amd64')).toBe(a);
    expect(sourceHash(FIXTURE, 'go version go1.21.0 linux/amd64')).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });
});
