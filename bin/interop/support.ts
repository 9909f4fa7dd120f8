/** Shared pieces of the interop tests: fresh loopback addresses and a real env that always closes. */
import { createNodeEnv, type NodeEnv } from '../../impl/runtime/node.js';
import type { Socket } from '../../impl/sp/core/socket.js';
import { freeTcpPort, tempIpcPath } from '../peers/harness.js';

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
