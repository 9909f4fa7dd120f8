/**
 * The parity suite's arms: each runs every case of parity-cases.ts and must get the expected
 * outcome, so all arms agree. The simulated network joins as one more entry in `arms`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Network, type NetworkOptions } from '../../sim/net.js';
import { World } from '../../sim/world.js';
import type { Env } from '../../impl/runtime/env.js';
import { createNodeEnv } from '../../impl/runtime/node.js';
import { parityCases, type ParityEnvs } from './parity.js';

// Loopback work takes milliseconds: a hang should fail fast, not after the global 60 s.
vi.setConfig({ testTimeout: 5_000 });

/** Two real envs (client and server are separate, as two processes would be). */
function realArm(address: string, cleanupPath?: string): Promise<ParityEnvs> {
  const client = createNodeEnv({ seed: 'parity', hostName: 'client' });
  const server = createNodeEnv({ seed: 'parity', hostName: 'server' });
  return Promise.resolve({
    client,
    server,
    address,
    async cleanup() {
      await Promise.all([client.close(), server.close()]);
      if (cleanupPath !== undefined) rmSync(cleanupPath, { recursive: true, force: true });
    },
  });
}

function unixArm(): Promise<ParityEnvs> {
  const dir = mkdtempSync(join(tmpdir(), 'netlab-parity-'));
  return realArm(`unix://${join(dir, 'echo.sock')}`, dir);
}

/**
 * Two hosts on a simulated network (one host when `sameHost`, as unix addresses are per host). The
 * world runs until the case's work settles; a world that goes idle first means the work is stuck.
 */
function simArm(
  seed: string,
  address: string,
  options: NetworkOptions = {},
  sameHost = false,
): Promise<ParityEnvs> {
  const world = new World({ seed });
  const net = new Network(world, options);
  const server: Env = net.addHost('server').env;
  const client: Env = sameHost ? server : net.addHost('client').env;
  return Promise.resolve({
    client,
    server,
    address,
    cleanup: () => Promise.resolve(),
    async drive<T>(work: () => Promise<T>): Promise<T> {
      let settled = false;
      const result = work().finally(() => (settled = true));
      while (!settled) {
        const run = await world.run({ maxEvents: 50_000_000 });
        await new Promise<void>((res) => setImmediate(res)); // let the finally() above run
        if (!settled && run.reason === 'idle')
          throw new Error(`simulated work stuck at t=${run.nowUs}us with nothing left to run`);
      }
      return result;
    },
  });
}

/** A rough network: every segment size, 30 % short writes, 2 % loss, jittered latency, small buffers. */
const ROUGH: NetworkOptions = {
  link: { latency: { kind: 'exponential', minUs: 1000, meanUs: 4000 }, jitterUs: 2000, lossRate: 0.02 },
  conn: {
    randomChunking: true,
    partialWriteProbability: 0.3,
    sendBufferBytes: { minBytes: 2048, maxBytes: 65536 },
    recvBufferBytes: 8192,
  },
};

const arms: Record<string, () => Promise<ParityEnvs>> = {
  'real tcp loopback': () => realArm('tcp://127.0.0.1:0'),
  'real unix socket': unixArm,
  'simulated tcp': () => simArm('parity', 'tcp://0.0.0.0:0'),
  'simulated tcp, rough network': () => simArm('parity-rough', 'tcp://0.0.0.0:0', ROUGH),
  'simulated unix socket': () => simArm('parity-unix', 'unix:///parity.sock', {}, true),
};

for (const [armName, makeEnvs] of Object.entries(arms)) {
  describe(`parity: ${armName}`, () => {
    for (const c of parityCases(makeEnvs)) {
      it(c.name, async () => {
        expect(await c.run()).toEqual(c.expected);
      });
    }
  });
}
