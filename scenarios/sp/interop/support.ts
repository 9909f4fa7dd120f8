/**
 * Shared pieces of the interop tests: fresh loopback addresses, a real env that always closes, and
 * a probe that says when a peer process is listening.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { createNodeEnv, type NodeEnv } from '../../../impl/runtime/node.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { freeTcpPort, tempIpcPath } from '../../interop/harness.js';

/** A fresh loopback TCP address or a unique ipc path (removed by the peer harness on exit). */
export async function interopAddress(transport: 'tcp' | 'ipc', tag: string): Promise<string> {
  return transport === 'tcp' ? `tcp://127.0.0.1:${await freeTcpPort()}` : `ipc://${tempIpcPath(tag)}`;
}

/** Runs `fn` with a real-runtime env; every socket pushed to `sockets`, and the env, close afterwards. */
export async function withRealEnv<T>(
  seed: string,
  fn: (env: NodeEnv, sockets: Socket[]) => Promise<T>,
): Promise<T> {
  const env = createNodeEnv({ seed, hostName: 'netlab' });
  const sockets: Socket[] = [];
  try {
    return await fn(env, sockets);
  } finally {
    for (const s of sockets) await s.close().catch(() => undefined);
    await env.close().catch(() => undefined);
  }
}

/**
 * Resolves once something accepts connections at url. A probe connection is opened and closed at
 * once: nngcat, nanocat and netlab count it as a failed handshake and carry on. Needed because nngcat prints
 * "Listening at" only into its stdio buffer, so its output cannot say when it is ready.
 */
export async function waitUntilListening(url: string, timeoutMs: number): Promise<void> {
  const target = url.startsWith('ipc://')
    ? { path: url.slice('ipc://'.length) }
    : (() => {
        const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(url);
        if (m === null) throw new Error(`cannot probe ${url}`);
        return { host: m[1]!, port: Number(m[2]) };
      })();
  const deadlineMs = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const probe = net.connect(target);
      probe.once('connect', () => {
        probe.destroy();
        res(true);
      });
      probe.once('error', () => res(false));
    });
    if (ok) return;
    if (performance.now() > deadlineMs) throw new Error(`nothing listening at ${url} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
