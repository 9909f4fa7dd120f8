import { describe, expect, it } from 'vitest';
import { implicitChecks } from '../../checks.js';
import '../museum/index.js';
import { defineScenario, type SocketDraft } from '../define.js';
import type { RawStep, ScenarioProtocol } from '../model.js';
import { checkFamilyProperty } from './testing.js';
import { registerImpl, runScenario, type ScenarioResult } from '../run.js';
import { BAD_HEADER_KINDS, HANDSHAKE_PROPERTIES, type BadHeaderKind } from './handshake.js';
import { headerForPeerOf, toHex } from './raw-bytes.js';

const RUNS = 100;

function property(id: string, impl: string) {
  return checkFamilyProperty(
    HANDSHAKE_PROPERTIES.find((p) => p.id === id)!,
    impl,
    1,
    RUNS,
  );
}

// Every handshake times out at once: nothing ever attaches (a planted bug for the good-peer checks).
registerImpl('test/instant-handshake-timeout', {
  summary: 'test only: HANDSHAKE-TIMEOUT of 1 us',
  family: 'handshake',
  socket: () => ({ options: { 'HANDSHAKE-TIMEOUT': 1 } }),
});

const TIMEOUT_US = 300_000;
const CHECKS = [
  'stack.no-crash',
  'handshake.bad-peer-closed',
  'handshake.bad-peer-counted',
  'handshake.timeout-cut',
  'handshake.good-peer-prompt',
  'handshake.good-peer-attached',
];

/** The bytes (and whether it closes after 50 ms) of a raw peer of each kind. */
function badPeer(kind: BadHeaderKind, listener: ScenarioProtocol): { bytes: Uint8Array; closes: boolean } {
  const h = headerForPeerOf(listener);
  const at = (i: number, v: number) => {
    const c = h.slice();
    c[i] = v;
    return c;
  };
  switch (kind) {
    case 'silent':
      return { bytes: new Uint8Array(0), closes: false };
    case 'truncated':
      return { bytes: h.slice(0, 4), closes: false };
    case 'truncated-close':
      return { bytes: h.slice(0, 4), closes: true };
    case 'byte0':
      return { bytes: at(0, 1), closes: false };
    case 'magic-s':
      return { bytes: at(1, 0x78), closes: false };
    case 'magic-p':
      return { bytes: at(2, 0x78), closes: false };
    case 'version':
      return { bytes: at(3, 1), closes: false };
    case 'reserved':
      return { bytes: at(7, 1), closes: false };
    case 'wrong-protocol':
      return { bytes: at(5, 0x51), closes: false }; // pull0
  }
}

function peerOf(p: ScenarioProtocol): ScenarioProtocol {
  return p === 'req0' ? 'rep0' : p === 'rep0' ? 'req0' : 'pair0';
}

function scenario(o: {
  listener: ScenarioProtocol;
  transport: 'tcp' | 'ipc';
  kinds: readonly BadHeaderKind[];
  goodStartUs?: number;
  impl?: string;
}) {
  const ipc = o.transport === 'ipc';
  const addr = ipc ? 'ipc:///tmp/netlab-local-5555.sock' : 'tcp://server:5555';
  const host = (h: string) => (ipc ? 'local' : h);
  const app = (p: ScenarioProtocol) => ({
    kind: p === 'pair0' ? ('sink' as const) : p === 'rep0' ? ('echo' as const) : ('send' as const),
  });
  const sockets: SocketDraft[] = [
    {
      name: 'server',
      host: host('server'),
      protocol: o.listener,
      listen: [addr],
      options: { 'HANDSHAKE-TIMEOUT': TIMEOUT_US },
      app: app(o.listener),
    },
  ];
  if (o.goodStartUs !== undefined)
    sockets.push({
      name: 'client0',
      host: host('client0'),
      protocol: peerOf(o.listener),
      dial: [addr],
      options: { 'HANDSHAKE-TIMEOUT': TIMEOUT_US },
      app: app(peerOf(o.listener)),
      startUs: o.goodStartUs,
    });
  return defineScenario({
    impl: o.impl ?? 'netlab',
    hosts: ipc ? ['local'] : ['server', 'client0', 'peers'],
    sockets,
    rawPeers: o.kinds.map((kind, i) => {
      const b = badPeer(kind, o.listener);
      const script: RawStep[] = b.bytes.length > 0 ? [{ afterUs: 0, write: toHex(b.bytes) }] : [];
      if (b.closes) script.push({ afterUs: 50_000, action: 'close' });
      return { name: `raw${i}`, host: host('peers'), dial: addr, startUs: 1_000, script };
    }),
    workload: { sends: [] },
    checks: CHECKS,
  });
}

function statusOf(r: ScenarioResult): Record<string, string> {
  return Object.fromEntries(r.checks.map((c) => [c.id, c.status]));
}

describe('handshake family: netlab passes every property', () => {
  for (const p of HANDSHAKE_PROPERTIES)
    it(p.id, async () => {
      const out = await property(p.id, 'netlab');
      expect(out.counterexample?.failed ?? []).toEqual([]);
      expect(out.ok).toBe(true);
    });
});

describe('handshake family: each museum variant is caught by its property', () => {
  const cases: [string, string, string][] = [
    ['museum/no-handshake-timeout', 'handshake/bad-peers', 'handshake.bad-peer-closed'],
    ['museum/serial-handshake', 'handshake/bad-peers', 'handshake.good-peer-prompt'],
  ];
  for (const [impl, prop, check] of cases)
    it(`${impl} fails ${prop}`, async () => {
      const out = await property(prop, impl);
      expect(out.ok).toBe(false);
      expect(out.counterexample!.failed.map((f) => f.id)).toContain(check);
    });
});

describe('handshake: hand-written bad peers', () => {
  for (const listener of ['pair0', 'rep0', 'req0'] as const)
    for (const transport of ['tcp', 'ipc'] as const)
      it(`netlab cuts and counts every bad kind (${listener} listener, ${transport})`, async () => {
        // At most 8 raw peers per scenario: the kinds in two halves.
        for (const kinds of [BAD_HEADER_KINDS.slice(0, 5), BAD_HEADER_KINDS.slice(5)]) {
          const r = await runScenario(scenario({ listener, transport, kinds, goodStartUs: 5_000 }), 's');
          expect(statusOf(r), kinds.join(',')).toEqual(
            Object.fromEntries([...CHECKS, ...implicitChecks(CHECKS, true)].map((c) => [c, 'pass'])),
          );
          kinds.forEach((k, i) => {
            const o = r.observations.raw[`raw${i}`]!;
            expect(o.closedAtUs, k).not.toBeNull();
            expect(o.closedByRemote, k).toBe(k !== 'truncated-close');
            // Every peer got the listener's own header first (sp.md §8 item 1).
            expect(o.bytesIn, k).toBe(8);
          });
          expect(r.observations.sockets.server!.endpoints.badHandshakes).toBe(kinds.length);
        }
      });

  it('a silent peer is cut at HANDSHAKE-TIMEOUT: after the accept crossing, plus the close crossing', async () => {
    const r = await runScenario(scenario({ listener: 'pair0', transport: 'tcp', kinds: ['silent'] }), 's');
    const o = r.observations.raw.raw0!;
    // Calm network: 1 ms per crossing. Accept = connected + 1 ms; the reset arrives 1 ms after the timeout.
    expect(o.closedAtUs! - o.connectedAtUs!).toBe(TIMEOUT_US + 2_000);
    expect(statusOf(r)['handshake.timeout-cut']).toBe('pass');
  });

  it('museum/no-handshake-timeout leaves a silent peer connected: cut, count and timing checks fail', async () => {
    const r = await runScenario(
      scenario({
        listener: 'rep0',
        transport: 'tcp',
        kinds: ['silent', 'truncated'],
        impl: 'museum/no-handshake-timeout',
      }),
      's',
    );
    expect(statusOf(r)).toMatchObject({
      'handshake.bad-peer-closed': 'fail',
      'handshake.bad-peer-counted': 'fail',
      'handshake.timeout-cut': 'fail',
    });
  });

  it('museum/serial-handshake makes a good peer wait behind a silent one', async () => {
    const s = {
      listener: 'pair0' as const,
      transport: 'ipc' as const,
      kinds: ['silent'] as const,
      goodStartUs: 10_000,
    };
    const ok = await runScenario(scenario(s), 's');
    expect(statusOf(ok)['handshake.good-peer-prompt']).toBe('pass');
    const bad = await runScenario(scenario({ ...s, impl: 'museum/serial-handshake' }), 's');
    expect(statusOf(bad)['handshake.good-peer-prompt']).toBe('fail');
    // It attaches once the silent peer is cut, so only the timing check catches it.
    expect(statusOf(bad)['handshake.good-peer-attached']).toBe('pass');
  });

  it('a good peer that can never complete a handshake fails the attach checks', async () => {
    const r = await runScenario(
      scenario({
        listener: 'req0',
        transport: 'tcp',
        kinds: [],
        goodStartUs: 5_000,
        impl: 'test/instant-handshake-timeout',
      }),
      's',
    );
    expect(statusOf(r)).toMatchObject({
      'handshake.good-peer-prompt': 'fail',
      'handshake.good-peer-attached': 'fail',
    });
  });

  it('timing is not judged when a fault overlaps the window', async () => {
    const base = scenario({ listener: 'pair0', transport: 'tcp', kinds: ['silent'], goodStartUs: 5_000 });
    const r = await runScenario(
      {
        ...base,
        faults: { version: 1, faults: [{ kind: 'pause', atUs: 100_000, host: 'server', forUs: 50_000 }] },
        faultPhaseUs: 1_000_000,
      },
      's',
    );
    expect(statusOf(r)['handshake.timeout-cut']).toBe('not-applicable');
    expect(statusOf(r)['handshake.bad-peer-closed']).toBe('pass');
  });
});
