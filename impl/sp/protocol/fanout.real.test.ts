/**
 * BUS, STAR and polyamorous PAIR1 on the real runtime over loopback TCP, ipc and inproc: the same
 * code as on the simulated network, three sockets each (a hub with two peers, a line of three).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createNodeEnv, type NodeEnv } from '../../runtime/node.js';
import type { Socket } from '../core/socket.js';
import { openBus0 } from './bus.js';
import { openPair1 } from './pair1.js';
import { openStar } from './star.js';

vi.setConfig({ testTimeout: 20_000 });

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);
const DEADLINE_US = 300_000;

let serial = 0;
function url(transport: 'tcp' | 'ipc' | 'inproc'): string {
  serial++;
  if (transport === 'tcp') return 'tcp://127.0.0.1:0';
  if (transport === 'inproc') return `inproc://fanout-${process.pid}-${serial}`;
  const path = join(tmpdir(), `netlab-fanout-${process.pid}-${serial}.sock`);
  rmSync(path, { force: true });
  return `ipc://${path}`;
}

async function withEnv(fn: (env: NodeEnv, keep: (s: Socket) => Socket) => Promise<void>): Promise<void> {
  const env = createNodeEnv({ seed: 'fanout', hostName: 'fanout' });
  const sockets: Socket[] = [];
  try {
    await fn(env, (s) => (sockets.push(s), s));
  } finally {
    for (const s of sockets) await s.close().catch(() => undefined);
    await env.close().catch(() => undefined);
  }
}

async function drain(s: Socket): Promise<string[]> {
  const got: string[] = [];
  for (;;) {
    try {
      got.push(str(await s.recv()));
    } catch {
      return got.sort();
    }
  }
}

/** Listens on a fresh address and returns the bound one (the real port for tcp://...:0). */
async function listen(s: Socket, transport: 'tcp' | 'ipc' | 'inproc'): Promise<string> {
  const l = s.newListener(url(transport));
  await l.listen();
  return l.address;
}

async function settle(env: NodeEnv, ...pairs: [Socket, number][]): Promise<void> {
  for (let i = 0; i < 200 && pairs.some(([s, n]) => s.pipes.size < n); i++) await env.sleep(5_000);
}

for (const transport of ['tcp', 'ipc', 'inproc'] as const) {
  describe(`fan-out protocols on the real runtime over ${transport}`, () => {
    it('BUS: the hub reaches both peers; a peer reaches only the hub', async () => {
      await withEnv(async (env, keep) => {
        const o = { options: { 'RECV-DEADLINE': DEADLINE_US } };
        const hub = keep(openBus0(env, o));
        const p1 = keep(openBus0(env, o));
        const p2 = keep(openBus0(env, o));
        const addr = await listen(hub, transport);
        await p1.dial(addr);
        await p2.dial(addr);
        await settle(env, [hub, 2]);
        await hub.send(text('hub'));
        await p1.send(text('p1'));
        expect(await drain(hub)).toEqual(['p1']);
        expect(await drain(p1)).toEqual(['hub']);
        expect(await drain(p2)).toEqual(['hub']);
      });
    });

    it('STAR: a line of three forwards end to end', async () => {
      await withEnv(async (env, keep) => {
        const o = { options: { 'RECV-DEADLINE': DEADLINE_US } };
        const middle = keep(openStar(env, o));
        const left = keep(openStar(env, o));
        const right = keep(openStar(env, o));
        const addr = await listen(middle, transport);
        await left.dial(addr);
        await right.dial(addr);
        await settle(env, [middle, 2]);
        await left.send(text('from-left'));
        expect(await drain(right)).toEqual(['from-left']);
        expect(await drain(middle)).toEqual(['from-left']);
        expect(await drain(left)).toEqual([]);
      });
    });

    it('PAIR1 polyamorous: replies go back to the pipe each message came on', async () => {
      await withEnv(async (env, keep) => {
        const o = { options: { 'RECV-DEADLINE': DEADLINE_US } };
        const hub = keep(openPair1(env, { options: { POLYAMOROUS: true, 'RECV-DEADLINE': DEADLINE_US } }));
        const p1 = keep(openPair1(env, o));
        const p2 = keep(openPair1(env, o));
        const addr = await listen(hub, transport);
        await p1.dial(addr);
        await p2.dial(addr);
        await settle(env, [hub, 2]);
        await p1.send(text('1'));
        await p2.send(text('2'));
        for (let i = 0; i < 2; i++) {
          const m = await hub.recvMsg();
          await hub.sendMsg({ header: new Uint8Array(0), body: text(`re-${str(m.body)}`), pipe: m.pipe! });
        }
        expect(await drain(p1)).toEqual(['re-1']);
        expect(await drain(p2)).toEqual(['re-2']);
      });
    });
  });
}
