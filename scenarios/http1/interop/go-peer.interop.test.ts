/**
 * go-http1, the Go net/http peer: its server's routes answer node:http requests correctly, and each
 * client script, run Go against Go, reports the decisions Go 1.19's Transport is known to make —
 * the oracle figures netlab's pool will be compared against. A missing Go toolchain skips these
 * tests, or fails them under NETLAB_REQUIRE_PEERS=1.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  goHttp1Peer,
  requirePeers,
  runGoClientScript,
  startGoServer,
  type GoScriptReport,
  type GoServer,
} from './go-peer.js';

const launch = await goHttp1Peer();
if (launch.kind === 'unavailable' && requirePeers())
  throw new Error(`NETLAB_REQUIRE_PEERS=1 and ${launch.reason}`);
const peerPath = launch.kind === 'ready' ? launch.path : '';

interface Reply {
  status: number;
  body: Uint8Array;
  elapsedMs: number;
}

function send(url: string, method: string, path: string, body?: Uint8Array): Promise<Reply> {
  const begin = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, agent: false }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on('data', (c: Uint8Array) => chunks.push(c));
      res.on('end', () => {
        const total = chunks.reduce((n, c) => n + c.length, 0);
        const out = new Uint8Array(total);
        let at = 0;
        for (const c of chunks) {
          out.set(c, at);
          at += c.length;
        }
        resolve({ status: res.statusCode ?? 0, body: out, elapsedMs: performance.now() - begin });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe.skipIf(launch.kind !== 'ready')('go-http1 peer', () => {
  let plain: GoServer;
  let dropping: GoServer;
  beforeAll(async () => {
    plain = await startGoServer(peerPath);
    // Drops a request on a connection idle ≥ 150 ms; the retry script waits 300 ms between requests.
    dropping = await startGoServer(peerPath, { closeIdleAfterMs: 150 });
  });
  afterAll(async () => {
    expect(await plain.stop()).toBe(0);
    expect(await dropping.stop()).toBe(0);
  });

  describe('server routes (node:http client)', () => {
    it('GET / → 200 netlab\\n; unknown path → 404', async () => {
      const root = await send(plain.url, 'GET', '/');
      expect(root.status).toBe(200);
      expect(text(root.body)).toBe('netlab\n');
      expect((await send(plain.url, 'GET', '/nope')).status).toBe(404);
      expect((await send(plain.url, 'POST', '/')).status).toBe(404);
    });

    it('POST /echo echoes the body byte for byte (empty, small, 1 MiB)', async () => {
      for (const size of [0, 5, 1 << 20]) {
        const body = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
        const r = await send(plain.url, 'POST', '/echo', body);
        expect(r.status).toBe(200);
        // A byte loop, not toEqual: vitest's deep diff of a 1 MiB array takes seconds.
        expect(r.body.length).toBe(size);
        expect(r.body.findIndex((b, i) => b !== body[i])).toBe(-1);
      }
    });

    it('GET /bytes/N → exactly N bytes; a bad N → 400', async () => {
      for (const n of [0, 1, 100_000]) {
        const r = await send(plain.url, 'GET', `/bytes/${n}`);
        expect(r.status).toBe(200);
        expect(r.body.length).toBe(n);
      }
      expect((await send(plain.url, 'GET', '/bytes/-1')).status).toBe(400);
      expect((await send(plain.url, 'GET', '/bytes/x')).status).toBe(400);
    });

    it('GET /status/CODE answers that status', async () => {
      for (const code of [200, 201, 204, 404, 418, 500, 503])
        expect((await send(plain.url, 'GET', `/status/${code}`)).status).toBe(code);
      expect((await send(plain.url, 'GET', '/status/99')).status).toBe(400);
    });

    it('GET /delay/MS answers after about MS ms', async () => {
      const r = await send(plain.url, 'GET', '/delay/200');
      expect(r.status).toBe(200);
      expect(text(r.body)).toBe('netlab\n');
      // Loose bound only: the timer never fires early; no upper bound on a shared machine.
      expect(r.elapsedMs).toBeGreaterThanOrEqual(150);
    });
  });

  describe('client scripts, Go against Go (the oracle figures)', () => {
    it('max-conns: 20 concurrent requests with MaxConnsPerHost 4 never open more than 4 connections', async () => {
      const r: GoScriptReport = await runGoClientScript(peerPath, plain.url, 'max-conns');
      expect(r.goVersion).toMatch(/^go1\./);
      expect(r['ok']).toBe(20);
      expect(r.maxOpen).toBeLessThanOrEqual(4);
      expect(r.dials).toBeLessThanOrEqual(4);
      // Every request got a connection once: 20 = dials + reuses.
      expect(r.dials + r.reuses).toBe(20);
      expect(r.outcomes.every((o) => o.attempts === 1 && o.status === 200)).toBe(true);
      // The trace agrees with the dial hook: one connectStart and one connectDone per dial.
      expect(r.events.filter((e) => e.kind === 'connectStart')).toHaveLength(r.dials);
      expect(r.events.filter((e) => e.kind === 'connectDone' && e.err === undefined)).toHaveLength(r.dials);
    });

    it('lifo: held requests pick idle connections most-recently-idle first', async () => {
      const r = await runGoClientScript(peerPath, plain.url, 'lifo');
      const idleOrder = r['idleOrder'] as number[];
      const pickOrder = r['pickOrder'] as number[];
      expect(new Set(idleOrder).size).toBe(3);
      expect(pickOrder).toEqual([...idleOrder].reverse());
      expect(r['pick']).toBe('lifo');
      // Phase 2's picks were all reuses of idle connections.
      const phase2 = r.events.filter((e) => e.kind === 'gotConn' && e.request >= 3);
      expect(phase2.every((e) => e.reused === true && e.wasIdle === true)).toBe(true);
    });

    it('header-timeout: ResponseHeaderTimeout on a reused connection is a timeout error, not retried', async () => {
      const r = await runGoClientScript(peerPath, plain.url, 'header-timeout');
      const slow = r.outcomes[1];
      expect(slow?.errorKind).toBe('timeout');
      expect(slow?.error).toMatch(/timeout awaiting response headers/);
      expect(slow?.attempts).toBe(1);
      expect(slow?.retried).toBe(false);
      expect(r.dials).toBe(1);
    });

    it('retry-idle-close: a GET on a connection the server dropped is retried, a POST is not, a POST with Idempotency-Key is', async () => {
      const r = await runGoClientScript(peerPath, dropping.url, 'retry-idle-close');
      const [first, get, post, post2, keyed] = r.outcomes;
      expect(first?.status).toBe(200);
      expect(get).toMatchObject({ method: 'GET', status: 200, attempts: 2, retried: true });
      expect(get?.ports[0]).not.toBe(get?.ports[1]);
      expect(post).toMatchObject({ method: 'POST', errorKind: 'server-closed', attempts: 1, retried: false });
      expect(post2).toMatchObject({ method: 'POST', status: 200, retried: false });
      expect(keyed).toMatchObject({ method: 'POST', status: 200, attempts: 2, retried: true });
      expect(r['retried']).toEqual({ get: true, post: false, postIdempotencyKey: true });
    });
  });
});
